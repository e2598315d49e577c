"""docs/operations.md shows the reference deployment's files as the scale-out drills use them."""

from academy_app.settings import PROJECT_ROOT
from tests.scale_out.testbed import ENVIRONMENT_FILE, HAPROXY_CONFIG


def test_the_operations_guide_shows_the_files_the_drills_run_with() -> None:
    guide = (PROJECT_ROOT / "docs" / "operations.md").read_text()
    for used in (HAPROXY_CONFIG, ENVIRONMENT_FILE):
        assert f"```\n{used.read_text()}```" in guide, f"docs/operations.md has an old {used.name}"
