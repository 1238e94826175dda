"""An installed infuse (`pip install .`, not editable) carries every file its bundled rulesets
read: the package-data globs of pyproject.toml cover each file of rulesets/ but the test cases.
(The NCCI data files were once left out, and a plain install failed to load its rulesets.)"""
import fnmatch
import tomllib

from tests.conftest import ROOT


def test_package_data_covers_every_file_the_bundled_rulesets_read():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["rulesets"]
    root = ROOT / "rulesets"
    shipped = [path.relative_to(root).as_posix() for path in root.rglob("*")
               if path.is_file() and path.suffix != ".py" and "tests" not in path.relative_to(root).parts
               and "__pycache__" not in path.parts]
    left_out = [name for name in shipped if not any(fnmatch.fnmatch(name, glob) for glob in globs)]
    assert shipped and not left_out, f"not in [tool.setuptools.package-data] rulesets: {left_out}"
