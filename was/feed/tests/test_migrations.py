"""During a deploy (`make deploy`) the previous release keeps serving on the new schema for a moment: no
migration may break it (a dropped or renamed column or table, a new NOT NULL column without a default...).
django-migration-linter reads the SQL of each migration and names those that would."""
import pytest
from django_migration_linter import MigrationLinter


@pytest.mark.django_db(transaction=True)  # sqlmigrate cannot run inside a test's transaction on SQLite
def test_every_migration_keeps_the_previous_release_working():
    linter = MigrationLinter(include_apps=["feed"], no_cache=True, ignore_initial_migrations=True)
    linter.lint_all_migrations()
    assert not linter.has_errors, "a migration breaks the release before it: see the linter's output above"
