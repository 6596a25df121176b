#!/usr/bin/env python3
"""The backup archive of scripts/backup: packing, and the checks that refuse a damaged, truncated or foreign one.

An archive is a gzipped tar whose first member is FORMAT (the marker below), its second SHA256SUMS (the sha256 of
every other member), then db.sql (mariadb-dump of the database) and media/<name> (each bucket object a post of
the dump refers to). Standard library only: it runs on the host's python3.

    backup_archive.py images DUMP         the object names (media/...) the dump's posts refer to, one a line
    backup_archive.py pack DIR ARCHIVE    DIR's db.sql and media/ into ARCHIVE
    backup_archive.py unpack ARCHIVE DIR  ARCHIVE, every check passed, into the empty DIR
    backup_archive.py check-uploads DIR   the upload answers (JSON objects, on stdin) match DIR's files
"""
import base64
import hashlib
import json
import re
import sys
import tarfile
import zlib
from pathlib import Path, PurePosixPath

FORMAT = b"django-clustering backup 1\n"
DUMP = "db.sql"
MEDIA = "media"  # the storage's location in the bucket (was/config/settings.py): objects are media/<Post.image>

# One INSERT statement of mariadb-dump --complete-insert. It may span lines, a row to a line (MariaDB 11), but a
# row never does: the dump escapes newlines in values, so the statement ends on the first line ending in ';'.
INSERT = re.compile(r"INSERT INTO `feed_post` \(([^)]*)\) VALUES (.*);$", re.S)
# A value of a row: a quoted string (backslash escapes) or a bare word (number, NULL); or a row's punctuation.
TOKEN = re.compile(r"'((?:[^'\\]|\\.)*)'|([^,()'\s]+)|([(),])", re.S)
ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


class Refused(Exception):
    """An archive (or an upload) that must not be restored; the message is one sentence for the operator."""


def unescape(value):
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), value, flags=re.S)


def rows(values):
    """The rows of an INSERT's VALUES part, each a list of str (quoted) or None (NULL) or the bare word."""
    row, found = None, []
    for quoted, bare, punct in (m.groups() for m in TOKEN.finditer(values)):
        if punct == "(":
            row = []
        elif punct == ")":
            found.append(row)
        elif quoted is not None:
            row.append(unescape(quoted))
        elif bare is not None:
            row.append(None if bare == "NULL" else bare)
    return found


def image_names(dump_lines):
    """The bucket objects (media/<Post.image>) that the dump's posts refer to, in order, without duplicates."""
    names = {}
    lines = iter(dump_lines)
    for line in lines:
        if not line.startswith("INSERT INTO `feed_post` "):
            continue
        statement = [line.rstrip("\n")]
        while not statement[-1].endswith(";"):
            statement.append(next(lines).rstrip("\n"))
        match = INSERT.match("\n".join(statement))
        column = [c.strip(" `") for c in match.group(1).split(",")].index("image")
        for row in rows(match.group(2)):
            if row[column]:
                name = f"{MEDIA}/{row[column]}"
                # Names the app chooses (posts/<uuid>.<ext>): safe in a path, a URL and curl's configuration.
                if not safe_name(name) or not re.fullmatch(r"[A-Za-z0-9._/-]+", name):
                    raise Refused(f"a post's image is named {name!r}, not a name the app chooses")
                names[name] = None
    return list(names)


def safe_name(name):
    """A member name that can only land inside the extraction directory: media/ and relative, no '..'."""
    path = PurePosixPath(name)
    return (name == DUMP or (len(path.parts) > 1 and path.parts[0] == MEDIA and not path.is_absolute()
                             and ".." not in path.parts and "" not in name.split("/")))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pack(source, archive):
    """source/db.sql and every file under source/media/ into archive (FORMAT, SHA256SUMS, then those)."""
    source = Path(source)
    members = [DUMP] + sorted(p.relative_to(source).as_posix() for p in (source / MEDIA).rglob("*") if p.is_file())
    sums = "".join(f"{sha256(source / name)}  {name}\n" for name in members).encode()
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in (("FORMAT", FORMAT), ("SHA256SUMS", sums)):
            (source / name).write_bytes(data)
        for name in ["FORMAT", "SHA256SUMS", *members]:
            info = tar.gettarinfo(source / name, arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(source / name, "rb") as f:
                tar.addfile(info, f)


def read_member(tar, info, limit=1 << 20):
    if not info.isfile() or info.size > limit:
        raise Refused(f"its member {info.name} is not what a backup holds there")
    return tar.extractfile(info).read()


def unpack(archive, dest):
    """Extracts archive into the empty directory dest, refusing it (Refused) unless it is a backup of this format,
    complete, every member's sha256 as listed, and every image its dump refers to among them."""
    dest = Path(dest)
    try:
        with tarfile.open(archive, "r:*") as tar:
            first = tar.next()
            if first is None or first.name != "FORMAT" or read_member(tar, first) != FORMAT:
                raise Refused("it is not a backup of this project in the format this version reads "
                              f"(its first member must be FORMAT saying {FORMAT.decode().strip()!r})")
            listing = tar.next()
            if listing is None or listing.name != "SHA256SUMS":
                raise Refused("it has no SHA256SUMS after its FORMAT")
            expected = {}
            for line in read_member(tar, listing).decode().splitlines():
                digest, _, name = line.partition("  ")
                if not re.fullmatch(r"[0-9a-f]{64}", digest) or not safe_name(name) or name in expected:
                    raise Refused(f"its SHA256SUMS has a line that is not a checksum of a member: {line!r}")
                expected[name] = digest
            seen = set()
            # next(), not iteration: iterating a TarFile starts again from its first member.
            while (info := tar.next()) is not None:
                if info.name not in expected or info.name in seen or not info.isfile():
                    raise Refused(f"its member {info.name} is not listed in SHA256SUMS (or is listed once but "
                                  "appears twice, or is not a file)")
                target = dest / info.name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with tar.extractfile(info) as source, open(target, "wb") as out:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
                if digest.hexdigest() != expected[info.name]:
                    raise Refused(f"its member {info.name} is damaged (sha256 differs from SHA256SUMS)")
                seen.add(info.name)
            # To the end of the compressed stream: its trailer's checksum and length catch a cut there too.
            while tar.fileobj.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise Refused(f"it is truncated or not a readable tar archive ({exc})") from exc
    missing = sorted(set(expected) - seen)
    if missing:
        raise Refused(f"it lacks {len(missing)} member(s) its SHA256SUMS lists, e.g. {missing[0]}")
    if DUMP not in seen:
        raise Refused(f"it has no {DUMP}")
    with open(dest / DUMP, encoding="utf-8", errors="replace") as dump:
        absent = [name for name in image_names(dump) if name not in seen]
    if absent:
        raise Refused(f"its dump refers to {len(absent)} image(s) it does not hold, e.g. {absent[0]}")


def check_uploads(source, answers):
    """Each upload answer (the JSON API's object resource) has the md5 of the file it came from, and every file
    under source/media/ was uploaded."""
    source = Path(source)
    uploaded, text, at = set(), answers.read(), 0
    decoder = json.JSONDecoder()
    while text[at:].strip():
        item, at = decoder.raw_decode(text, len(text) - len(text[at:].lstrip()))
        local = source / item["name"]
        if item.get("md5Hash") != base64.b64encode(hashlib.md5(local.read_bytes()).digest()).decode():
            raise Refused(f"the bucket's copy of {item['name']} differs from the archive's")
        uploaded.add(item["name"])
    files = {p.relative_to(source).as_posix() for p in (source / MEDIA).rglob("*") if p.is_file()}
    if files - uploaded:
        raise Refused(f"{len(files - uploaded)} image(s) were not uploaded, e.g. {sorted(files - uploaded)[0]}")


def main(command, *args):
    context = {"images": "backup", "unpack": f"restore: {args[0] if args else ''} is refused, nothing was changed",
               "check-uploads": "restore: stopped before loading the database"}.get(command, command)
    try:
        if command == "images":
            with open(args[0], encoding="utf-8", errors="replace") as dump:
                print("\n".join(image_names(dump)))
        elif command == "pack":
            pack(*args)
        elif command == "unpack":
            unpack(*args)
        elif command == "check-uploads":
            check_uploads(args[0], sys.stdin)
        else:
            raise SystemExit(__doc__)
    except Refused as exc:
        print(f"{context}: {exc}.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
