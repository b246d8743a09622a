"""Every message ``petnet serve`` sends, in Chinese and English: one catalogue, one key each.

An error is raised as ``ServeError(key, **params)`` (or one of its kinds, which carry the HTTP
status: :class:`NotFound` 404, :class:`Conflict` 409, :class:`Unauthorized` 401,
:class:`Forbidden` 403, :class:`UploadError` 413/422). The app answers it as::

    {"detail": "<the message in the request's language>", "code": "<key>",
     "message_zh": "...", "message_en": "..."}

so a page can show it in either language and re-render it when the user switches. The language of
``detail`` is chosen by :func:`pick_language`: the ``lang`` query parameter (``zh`` or ``en``),
else the request's ``Accept-Language``, else English (what command-line clients read).

``MESSAGES[key] = (zh, en)``: each a ``str.format`` template of the error's parameters. A
parameter may itself be a ``ServeError`` (rendered in the same language) or a list of
``(name, ServeError)`` (one ``name: message`` per item, joined the language's way). A parameter
named ``detail`` is text from the library (``petnet.pets``), which speaks English: the Chinese
message frames it in Chinese.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from petnet.errors import ParamError, PetnetError

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # -- the request itself ------------------------------------------------------------------
    "request_too_large": ("请求太大：超过 {limit}", "request larger than {limit}"),
    "bad_request": ("请求的格式不对：{problems}", "bad request: {problems}"),
    "no_such_endpoint": ("没有这个地址：{path}（API 列表见 /docs）",
                         "no such endpoint: {path} (the API is listed on /docs)"),
    "method_not_allowed": ("{path} 不接受 {method} 请求（见 /docs）",
                           "{path} does not take {method} requests (see /docs)"),
    "internal_error": ("服务器内部出错（{kind}）；服务器继续运行", "internal error ({kind}); the server goes on"),
    "library_error": ("出错了：{detail}", "{detail}"),
    # -- the lock ----------------------------------------------------------------------------
    "token_required": ("这个服务器需要访问令牌：在页面右上角的“访问令牌”里填写，或发送 "
                       "'Authorization: Bearer TOKEN'",
                       "this server needs a token: enter it in the page's 'Access token' field, or send "
                       "'Authorization: Bearer TOKEN'"),
    "cross_site": ("拒绝来自别的网站（{origin}）的修改请求：只有这个服务器自己的页面可以修改",
                   "refused a change requested by another site ({origin}): only this server's own page "
                   "may make changes"),
    "foreign_host": ("拒绝 Host 为 {host} 的请求：这个服务器只回答 {allowed}（防止 DNS 重绑定）；"
                     "要从别的地址访问，请用 --token 启动",
                     "refused a request for Host {host}: this server answers only {allowed} (against "
                     "DNS rebinding); to reach it under another name, start it with --token"),
    # -- uploads -----------------------------------------------------------------------------
    "no_files": ("没有收到文件：请在表单字段 'files' 里发送一张或多张照片",
                 "no files: send one or more photos in the form field 'files'"),
    "too_many_files": ("一次请求有 {count} 个文件，最多 {max} 个", "{count} files in one request; at most {max}"),
    "file_too_large": ("{name}：超过每张照片 {limit} 的上限", "{name}: larger than {limit} per photo"),
    "photo_empty": ("空文件", "empty file"),
    "photo_not_image": ("不是图片，或不是 petnet 能读的格式（{formats}）",
                        "not an image, or not a format petnet reads ({formats})"),
    "photo_too_many_pixels": ("图片太大：{size} 像素，最多 {max} 像素（解压炸弹？）",
                              "image too large: {size} pixels, at most {max} (a decompression bomb?)"),
    "photo_unreadable": ("无法读取这张照片：{detail}", "could not read this photo: {detail}"),
    "photo_format_unusable": ("{format} 格式的照片不能用来训练；请用 JPEG、PNG、WebP、BMP、GIF 或 TIFF",
                              "{format} photos cannot be used for training; send JPEG, PNG, WebP, BMP, GIF "
                              "or TIFF"),
    "no_photo_readable": ("没有一张照片能读取：{items}", "no photo could be read: {items}"),
    "no_photo_added": ("没有加入任何照片：{items}", "no photo could be added: {items}"),
    "duplicate_photo": ("这张照片已经在类别 “{name}” 里了（内容完全相同）",
                        "this photo is already in the class '{name}' (the same bytes)"),
    # -- classes and photos ------------------------------------------------------------------
    "class_not_found": ("没有类别 {id}", "no class {id}"),
    "photo_not_found": ("类别 {cls} 里没有照片 {id}", "no photo {id} in class {cls}"),
    "name_not_text": ("类别名称必须是文字", "name must be text"),
    "name_empty": ("类别名称是空的：起个名字，比如 咪咪 或 Persian",
                   "name is empty; give the class a name, e.g. 咪咪 or Persian"),
    "name_too_long": ("类别名称有 {length} 个字符，最多 {max} 个", "name is {length} characters long; at most {max}"),
    "name_bad_chars": ("类别名称不能有控制字符、换行或斜杠", "name may not contain control characters, line "
                       "breaks or slashes"),
    "name_dot": ("类别名称不能以点开头", "name may not start with a dot"),
    "class_exists": ("已经有名为 “{name}” 的类别了", "a class named '{name}' exists already"),
    "too_many_classes": ("最多 {max} 个类别", "at most {max} classes"),
    "too_many_photos": ("每个类别最多 {max} 张照片", "at most {max} photos per class"),
    "move_same_class": ("照片已经在这个类别里了", "the photo is in that class already"),
    # -- training ----------------------------------------------------------------------------
    "too_few_classes": ("至少需要 {min} 个类别才能训练（现在 {count} 个）",
                        "training needs at least {min} classes (now {count})"),
    "too_few_photos": ("每个类别至少需要 {min} 张照片：{classes}", "each class needs at least {min} photos: "
                       "{classes}"),
    "training_running": ("正在训练：等它完成再试", "a training job is running; wait for it to finish"),
    "train_failed": ("训练失败（模型没有变）：{detail}", "training failed (the model is unchanged): {detail}"),
    # -- models ------------------------------------------------------------------------------
    "model_not_found": ("没有模型 {version}", "no model {version}"),
    "switch_while_training": ("正在训练：训练完成后再切换模型", "a training job is running; switch models "
                              "when it is done"),
    "delete_active": ("不能删除正在使用的模型 {version}：先启用另一个", "the model {version} is in use and "
                      "cannot be deleted; activate another one first"),
    "delete_base": ("基础模型不能删除", "the base model cannot be deleted"),
    "no_model_file": ("基础模型（{name}）没有模型文件可下载", "the base model ({name}) has no model file to "
                      "download"),
    "model_unusable": ("模型 {version} 无法使用：{detail}", "the model {version} cannot be used: {detail}"),
    "model_file_too_large": ("模型文件太大：超过 {limit}", "model file larger than {limit}"),
    "model_file_invalid": ("{name} 不能作为模型使用：{detail}", "{name} cannot be used as a model: {detail}"),
    "model_unpacks_too_large": ("{name} 不能作为模型使用：解压后有 {size}，超过 {limit}（压缩炸弹？）",
                                "{name} cannot be used as a model: its entries unpack to {size}, more than {limit} "
                                "(a zip bomb?)"),
    "export_failed": ("无法导出 ONNX：{detail}", "could not export ONNX: {detail}"),
}

#: how the items of a list parameter are joined and written, per language
_JOIN = {"zh": "；", "en": "; "}
_ITEM = {"zh": "{name}：{message}", "en": "{name}: {message}"}


class ServeError(PetnetError):
    """An error of the web app: ``key`` of :data:`MESSAGES`, its ``params``, the HTTP ``status``.
    ``str()`` is the English message (logs, tests)."""

    status = 422

    def __init__(self, key: str, status: int | None = None, **params):
        if key not in MESSAGES:
            raise KeyError(f"no message {key!r} in petnet.serve.messages.MESSAGES")
        self.key, self.params = key, params
        if status is not None:
            self.status = status
        PetnetError.__init__(self, self.text("en"))

    def text(self, lang: str) -> str:
        return render(self.key, lang, self.params)

    def body(self, lang: str) -> dict:
        """The JSON answer: ``detail`` in ``lang``, the ``code``, both languages."""
        return {"detail": self.text(lang), "code": self.key,
                "message_zh": self.text("zh"), "message_en": self.text("en")}


class BadParam(ServeError, ParamError):
    """A bad value of the request's parameter ``param`` (HTTP 422); its English message starts with
    the parameter's name, as every ``ParamError``'s does."""

    def __init__(self, key: str, param: str, **params):
        ServeError.__init__(self, key, **params)
        text = str(self)
        self.param, self.problem = param, text[len(param) + 1:] if text.startswith(param + " ") else text


class NotFound(ServeError):
    """A class, photo or model that does not exist (HTTP 404)."""
    status = 404


class Conflict(ServeError):
    """A request that clashes with what exists or runs (HTTP 409)."""
    status = 409


class Unauthorized(ServeError):
    """A request without the right token (HTTP 401)."""
    status = 401


class Forbidden(ServeError):
    """A request from another site, or for another host (HTTP 403)."""
    status = 403


class UploadError(ServeError):
    """Uploads that break a rule (HTTP 422, or 413 when too large)."""


def _param(value, lang: str):
    if isinstance(value, ServeError):
        return value.text(lang)
    if isinstance(value, list):
        return _JOIN[lang].join(_ITEM[lang].format(name=name, message=_param(m, lang)) for name, m in value)
    if isinstance(value, dict) and set(value) == set(LANGUAGES):     # already written in both
        return value[lang]
    return value


def render(key: str, lang: str, params: dict) -> str:
    """The message ``key`` in ``lang`` (``zh``/``en``) with ``params`` filled in."""
    template = MESSAGES[key][LANGUAGES.index(lang if lang in LANGUAGES else "en")]
    return template.format(**{k: _param(v, lang) for k, v in params.items()})


def pick_language(query_string: bytes | str = b"", accept_language: str | None = None) -> str:
    """``zh`` or ``en``: the ``lang`` query parameter, else the first of Chinese or English in
    ``Accept-Language`` by its weight (``q``), else ``en``."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    for value in parse_qs(query_string).get("lang", []):
        value = value.strip().lower()
        if value[:2] in LANGUAGES:
            return value[:2]
    best, best_q = "en", -1.0
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        for item in rest.split(";"):
            name, _, value = item.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        tag = tag.strip().lower()[:2]
        if tag in LANGUAGES and q > best_q:
            best, best_q = tag, q
    return best


def language_of_scope(scope) -> str:
    """:func:`pick_language` of an ASGI request."""
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    return pick_language(scope.get("query_string", b""), accept)
