"""For the suite's own tests: a stand-in for libeam's suite binary, so they need no build."""
import os


def install_stand_in(tmp, script):
    """Writes `script` as the eam_suite binary of a build folder under `tmp`, executable, and
    returns that build folder (for suite.py --build)."""
    build = os.path.join(tmp, "build")
    bench = os.path.join(build, "bench")
    os.makedirs(bench)
    binary = os.path.join(bench, "eam_suite")
    with open(binary, "w") as f:
        f.write(script)
    os.chmod(binary, 0o755)
    return build
