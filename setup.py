"""The build, as pyproject.toml declares it, with the bundled targets put inside the package: targets/*.yaml stays
at the checkout's root, where the project reads it, and an installed agent-probe finds it as probe/targets/."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithTargets(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install runs from the checkout, which reads targets/ where it is
        bundled = Path(self.build_lib) / "probe" / "targets"
        self.mkpath(str(bundled))
        for target in sorted(Path(__file__).resolve().parent.glob("targets/*.yaml")):
            self.copy_file(str(target), str(bundled / target.name))


setup(cmdclass={"build_py": BuildWithTargets})
