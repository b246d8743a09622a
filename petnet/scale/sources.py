"""Photos to process: local files, folders (recursive) and globs, or URIs pyarrow can read
(``s3://bucket/photos/``, ``gs://...``, ``hdfs://...``), listed in a stable order."""

from __future__ import annotations

from petnet.errors import PetnetError

#: the most bytes read for one photo (a bigger file is an error row, not an out-of-memory worker)
MAX_PHOTO_BYTES = 64 << 20


def _is_uri(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def list_photos(sources) -> list[str]:
    """Every photo of ``sources`` as a string: local ones as ``petnet predict`` lists them (same
    spelling, so rows match its output), URIs listed recursively through ``pyarrow.fs``."""
    from petnet.pets.images import IMAGE_EXTENSIONS
    from petnet.pets.predict import collect_paths

    if isinstance(sources, (str, bytes)) or not hasattr(sources, "__iter__"):
        sources = [sources]
    local = [str(s) for s in sources if not _is_uri(str(s))]
    out = [str(p) for p in collect_paths(local)[0]] if local else []
    for uri in (str(s) for s in sources if _is_uri(str(s))):
        import pyarrow.fs as pafs
        try:
            fs, root = pafs.FileSystem.from_uri(uri)
            info = fs.get_file_info(root)
            if info.type == pafs.FileType.Directory:
                infos = fs.get_file_info(pafs.FileSelector(root, recursive=True))
                scheme = uri.split("://", 1)[0]
                out += sorted(f"{scheme}://{i.path}" for i in infos if i.type == pafs.FileType.File
                              and "." + i.extension.lower() in IMAGE_EXTENSIONS)
            elif info.type == pafs.FileType.File:
                out.append(uri)
            else:
                raise PetnetError(f"{uri} does not exist")
        except (OSError, ValueError) as exc:
            raise PetnetError(f"cannot list {uri}: {exc}") from None
    return list(dict.fromkeys(out))       # each photo once, in order


def read_photo(path: str):
    """What a worker hands to the recognizer: a local path as it is (so messages match
    ``petnet predict``), a URI's bytes (at most ``MAX_PHOTO_BYTES``)."""
    if not _is_uri(path):
        return path
    import pyarrow.fs as pafs
    fs, p = pafs.FileSystem.from_uri(path)
    with fs.open_input_stream(p) as f:
        data = f.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise PetnetError(f"{path}: larger than {MAX_PHOTO_BYTES >> 20} MB; not read")
    return data
