"""fwctl: the command line of fwop (render, check, evidence offline; report, inspect live).

Must not: talk to a cluster from the render path, or hold logic the operator needs (it
calls the same api and render modules). Import the submodules you need.
"""

__all__: list[str] = []
