"""scripts/backup_archive.py: which images a dump refers to, and which archives a restore refuses."""
import base64
import hashlib
import io
import json
import tarfile

import pytest

from backup_archive import FORMAT, Refused, check_uploads, image_names, pack, unpack

COLUMNS = "(`id`, `caption`, `image`, `width`, `height`, `created_at`, `author_id`)"
DUMP = f"""-- MariaDB dump
INSERT INTO `auth_user` (`id`, `username`) VALUES (1,'posts/not-an-image.jpg');
INSERT INTO `feed_post` {COLUMNS} VALUES (1,'it\\'s (a), \\'posts/fake.jpg\\'','posts/a.jpg',1,1,'2026-01-01 00:00:00',1),(2,'two\\nlines \\\\','posts/b.png',1,1,'2026-01-01 00:00:00',1);
INSERT INTO `feed_post` (`image`, `id`) VALUES ('posts/c.gif',3),
('posts/a.jpg',4),
('',5);
"""


def test_image_names_are_the_image_column_of_every_post_row_whatever_the_captions_hold_on_one_line_or_many():
    assert image_names(DUMP.splitlines()) == ["media/posts/a.jpg", "media/posts/b.png", "media/posts/c.gif"]


@pytest.fixture
def backup(tmp_path):
    """A packed archive of a dump and its three images; returns (archive, {member: bytes})."""
    source = tmp_path / "source"
    (source / "media" / "posts").mkdir(parents=True)
    files = {"db.sql": DUMP.encode(), "media/posts/a.jpg": b"jpeg", "media/posts/b.png": b"png",
             "media/posts/c.gif": b"gif"}
    for name, data in files.items():
        (source / name).write_bytes(data)
    pack(source, tmp_path / "backup.tar.gz")
    return tmp_path / "backup.tar.gz", files


def tarball(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def members_of(archive):
    with tarfile.open(archive) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]


def test_a_packed_archive_unpacks_to_the_same_files(backup, tmp_path):
    archive, files = backup
    unpack(archive, tmp_path / "out")
    assert {name: (tmp_path / "out" / name).read_bytes() for name in files} == files
    assert [name for name, _ in members_of(archive)][:2] == ["FORMAT", "SHA256SUMS"]


def refusal(archive, tmp_path):
    with pytest.raises(Refused) as refused:
        unpack(archive, tmp_path / "refused")
    return str(refused.value)


def test_a_truncated_archive_is_refused(backup, tmp_path):
    archive, _ = backup
    data = archive.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 5, 0):
        (tmp_path / "cut.tar.gz").write_bytes(data[:cut])
        reason = refusal(tmp_path / "cut.tar.gz", tmp_path)
        assert "truncated" in reason or "not a backup" in reason, reason


def test_a_member_whose_bytes_differ_from_its_checksum_is_refused(backup, tmp_path):
    archive, _ = backup
    members = [(name, b"jpeg!" if name == "media/posts/a.jpg" else data) for name, data in members_of(archive)]
    assert "media/posts/a.jpg is damaged" in refusal(tarball(tmp_path / "damaged.tar.gz", members), tmp_path)


def test_a_foreign_tarball_is_refused(tmp_path):
    foreign = tarball(tmp_path / "foreign.tar.gz", [("db.sql", b"DROP DATABASE django;"), ("README", b"hi")])
    assert "not a backup" in refusal(foreign, tmp_path)
    other_version = tarball(tmp_path / "v2.tar.gz", [("FORMAT", b"django-clustering backup 2\n")])
    assert "not a backup" in refusal(other_version, tmp_path)


def test_a_member_not_in_the_checksums_or_outside_the_archive_directory_is_refused(backup, tmp_path):
    archive, _ = backup
    members = members_of(archive)
    assert "../evil is not listed" in refusal(tarball(tmp_path / "a.tar.gz", [*members, ("../evil", b"x")]), tmp_path)
    sums = b"%s  ../../etc/passwd\n" % (b"0" * 64)
    assert "not a checksum of a member" in refusal(
        tarball(tmp_path / "b.tar.gz", [("FORMAT", FORMAT), ("SHA256SUMS", sums)]), tmp_path)
    assert not (tmp_path / "evil").exists()


def test_an_archive_without_an_image_its_dump_refers_to_is_refused(tmp_path):
    dump = DUMP.encode()
    members = [("FORMAT", FORMAT), ("SHA256SUMS", f"{hashlib.sha256(dump).hexdigest()}  db.sql\n".encode()),
               ("db.sql", dump)]
    assert "refers to 3 image(s) it does not hold" in refusal(tarball(tmp_path / "x.tar.gz", members), tmp_path)


def test_a_member_listed_but_absent_is_refused(backup, tmp_path):
    archive, _ = backup
    members = [m for m in members_of(archive) if m[0] != "media/posts/c.gif"]
    assert "lacks 1 member" in refusal(tarball(tmp_path / "short.tar.gz", members), tmp_path)


def answer(name, data):
    return json.dumps({"name": name, "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode()}, indent=1)


def test_uploads_are_checked_against_the_archives_files(backup, tmp_path):
    archive, files = backup
    unpack(archive, tmp_path / "out")
    images = {name: data for name, data in files.items() if name.startswith("media/")}
    check_uploads(tmp_path / "out", io.StringIO("\n".join(answer(n, d) for n, d in images.items())))
    with pytest.raises(Refused, match="differs"):
        check_uploads(tmp_path / "out", io.StringIO(answer("media/posts/a.jpg", b"other")))
    with pytest.raises(Refused, match="2 image"):
        check_uploads(tmp_path / "out", io.StringIO(answer("media/posts/a.jpg", b"jpeg")))
