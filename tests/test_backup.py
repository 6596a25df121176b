"""`make backup` while the stack serves, `make restore` into a fresh stack: the same users, posts, comments, likes
and image bytes; a truncated, damaged or foreign archive is refused and changes nothing."""
import hashlib
import io
import subprocess
import tarfile
import time
import uuid

import pytest

from harness.cluster import BUCKET, ROOT, Traffic, running_stack
from harness.pictures import picture
from harness.users import Visitor

# What a restore must give back, compared row by row between the two stacks (no double quotes: Cluster.sql).
CONTENT = {
    "users": "SELECT id, username, password, email, is_staff, date_joined FROM auth_user ORDER BY id",
    "posts": "SELECT id, author_id, caption, image, width, height, created_at FROM feed_post ORDER BY id",
    "comments": "SELECT id, post_id, author_id, body, created_at FROM feed_comment ORDER BY id",
    "likes": "SELECT id, post_id, user_id FROM feed_like ORDER BY id",
}
PASSWORD = "correct-horse-battery-9"
# Backed up from the Compose stack and from the Swarm stack, each restored into a Compose stack of its own.
pytestmark = pytest.mark.swarm


def content(stack):
    return {name: stack.sql(query) for name, query in CONTENT.items()}


def backup(stack, *args, backup_dir):
    """scripts/backup (what `make backup`, `make restore` run) on the stack: a Compose project, or a Swarm stack
    in an engine of its own (the script finds none of a Compose project of that name there)."""
    return subprocess.run([ROOT / "scripts" / "backup", *map(str, args)], capture_output=True, text=True, timeout=600,
                          env=stack.environment(BACKUP_DIR=str(backup_dir)))


@pytest.fixture(scope="module")
def posted(cluster):
    """Two members' posts, each liked and commented on by the other: (the uploaded images, a member's name)."""
    members = [Visitor(cluster).sign_up(f"backup-{uuid.uuid4().hex[:8]}") for _ in range(2)]
    images = [picture("PNG" if i % 2 else "JPEG", seed=300 + i) for i in range(4)]
    for i, image in enumerate(images):
        author, other = members[i % 2], members[1 - i % 2]
        caption = f"backed up 'photo' {i}, \\ (with; punctuation)"
        assert author.upload(image, filename="photo", caption=caption).status_code == 302
        post_id = cluster.sql("SELECT MAX(id) FROM feed_post")
        assert other.post(f"/posts/{post_id}/like").status_code == 302
        assert other.post(f"/posts/{post_id}/comments", {"body": f"nice {i}"}).status_code == 302
    return images, members[0].user()


@pytest.fixture(scope="module")
def archive(cluster, posted, tmp_path_factory):
    """A backup taken while 6 clients (2 logged in) browse: not one failed request."""
    backup_dir = tmp_path_factory.mktemp("backups")
    users = int(cluster.sql("SELECT COUNT(*) FROM auth_user"))
    with Traffic(cluster, clients=6, users=2) as traffic:
        # The logged-in clients signed up before the snapshot: the data no longer changes under it.
        for _ in range(300):
            if int(cluster.sql("SELECT COUNT(*) FROM auth_user")) == users + 2:
                break
            time.sleep(0.1)
        result = backup(cluster, "create", backup_dir=backup_dir)
        time.sleep(1)
    assert result.returncode == 0, result.stderr
    print(result.stdout.strip(), f"| traffic: {len(traffic.outcomes)} requests, {len(traffic.failures())} failed")
    assert traffic.outcomes and not traffic.failures(), traffic.failures()[:3]
    (archive,) = backup_dir.glob("*.tar.gz")
    assert archive.stat().st_mode & 0o077 == 0, "an archive holds password hashes: the owner's only"
    assert str(archive) in backup(cluster, "list", backup_dir=backup_dir).stdout
    return archive


@pytest.fixture(scope="module")
def target(cluster, tmp_path_factory):
    """A fresh, empty stack of its own for each backed up one, with other secrets (they are not in the archive)."""
    with running_stack(tmp_path_factory.mktemp("target-secrets")) as stack:
        yield stack


def rewritten(archive, path, change):
    """A copy of the archive with each member's bytes passed through change(name, data)."""
    with tarfile.open(archive) as source, tarfile.open(path, "w:gz") as copy:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return path


def test_a_truncated_damaged_or_foreign_archive_is_refused_with_one_sentence_and_changes_nothing(archive, target,
                                                                                                  tmp_path):
    before = content(target), target.bucket_objects()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    damaged_image = rewritten(archive, tmp_path / "damaged-image.tar.gz",
                              lambda name, data: data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("media/") else data)
    damaged_dump = rewritten(archive, tmp_path / "damaged-dump.tar.gz",
                             lambda name, data: b"DROP TABLE auth_user;\n" if name == "db.sql" else data)
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        tar.add(ROOT / "README.md", arcname="db.sql")
    for bad, reason in [(truncated, "truncated"), (damaged_image, "is damaged"), (damaged_dump, "db.sql is damaged"),
                        (foreign, "not a backup")]:
        result = backup(target, "restore", bad, backup_dir=tmp_path)
        assert result.returncode != 0 and result.stdout == "", result.stdout
        assert result.stderr.count("\n") == 1 and reason in result.stderr and "refused" in result.stderr, result.stderr
    assert (content(target), target.bucket_objects()) == before
    assert target.sql("SELECT COUNT(*) FROM auth_user") == "0"


def test_restore_into_a_fresh_stack_gives_back_the_same_users_posts_comments_likes_and_image_bytes(
        cluster, posted, archive, target, tmp_path):
    images, username = posted
    result = backup(target, "restore", archive, backup_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    print(result.stdout.strip())
    assert content(target) == content(cluster)
    restored = set()
    for image in cluster.sql("SELECT image FROM feed_post").split():
        copy, original = (Visitor(stack).get(f"/media/{image}") for stack in (target, cluster))
        assert copy.status_code == 200, image
        assert hashlib.sha256(copy.content).digest() == hashlib.sha256(original.content).digest(), image
        assert copy.headers["Content-Type"] == original.headers["Content-Type"]
        restored.add(hashlib.sha256(copy.content).digest())
    assert {hashlib.sha256(image).digest() for image in images} <= restored
    # A member logs in on the restored stack, though its secrets are others: password hashes don't depend on them.
    member = Visitor(target)
    assert member.post("/login", {"username": username, "password": PASSWORD}).status_code == 302
    assert member.user() == username and "backed up" in member.get("/").text
    again = backup(target, "restore", archive, backup_dir=tmp_path)
    assert again.returncode != 0 and "not empty" in again.stderr


def test_a_backup_of_a_post_whose_image_is_lost_fails_naming_it_and_writes_nothing(target, tmp_path):
    # The restored stack (the test above): one of its images deleted behind the app's back.
    image = target.sql("SELECT image FROM feed_post ORDER BY id LIMIT 1")
    name = f"media/{image}".replace("/", "%2F")
    target.exec("gcs", f"curl -fsS -X DELETE http://127.0.0.1:4443/storage/v1/b/{BUCKET}/o/{name}")
    result = backup(target, "create", backup_dir=tmp_path / "backups")
    assert result.returncode != 0 and f"media/{image}" in result.stderr and "lost" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1
    assert not list((tmp_path / "backups").iterdir()), "nothing written, not even a partial archive"
