"""Evidence for auditors: per-control verdicts on live objects, and what is made of them.

``verdicts`` decides (pure); ``policyreport`` shapes verdicts into wgpolicyk8s.io
PolicyReports (pure). The operator, ``fwctl report`` and ``fwctl inspect`` all judge
through ``verdicts``, so a control means the same thing everywhere.
"""
