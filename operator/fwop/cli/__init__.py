"""fwctl: the offline command line of fwop (render today; check and report later).

Must not: talk to a cluster from the render path, or hold logic the operator needs (it
calls the same api and render modules). Import the submodules you need.
"""

__all__: list[str] = []
