"""Reading request bodies: the one place that decides what a body may be.

Every request passes `check_body` (a `before_request` hook) before any view, login check or
parsing runs:

- size: at most `MAX_CONTENT_LENGTH` (64 KiB) unless the view declares a larger limit with
  `@body_limit(...)`, or a limit per uploaded file with `@upload_limit(...)` (the body may then
  hold the file and MULTIPART_OVERHEAD more). A larger `Content-Length` is refused with 413 before
  anything is read; a chunked body is cut off at the limit with the same 413 and code (werkzeug's
  bounded stream); a file part above an upload's limit is 413 with that code too, once the form is
  cut into parts, still before the login check (a file just over its limit fits the envelope's room).
- media type: a view that takes JSON accepts only `application/json` (or `+json`), an upload
  view only `multipart/form-data`; anything else is 415 `UNSUPPORTED_MEDIA_TYPE`.
- a view that takes no body refuses one: a JSON object's fields are refused like unknown fields
  (422), JSON that is no object is 422 `_schema` (as on an endpoint with a body), anything not
  JSON is 415. An empty body, `{}` and `null` are the same as no body.

A query string may hold only the parameters the operation documents: any other name (`?bogus=1`)
is 422 `VALIDATION_ERROR` naming it (`{"bogus": ["不允许的字段"]}`), and so is a parameter given twice
(`{"page": ["此参数只能填写一次"]}`), on every API operation, whether
or not it takes query parameters, and before the login check (`check_query`). Pages outside the API
(console, docs) read their own query strings.

A PATCH without a field to change (no body, an empty one, `{}`, `null`) is 422 `NO_CHANGES`.

JSON is parsed by `parse_json` when `check_body` runs (before the login check), once per request
(the webargs parser below reuses it): malformed JSON (a BOM too), a field named twice, nesting
deeper than `MAX_DEPTH`, a number longer than `MAX_NUMBER_CHARS` characters or a fraction a double
would round to a whole number are 400 `BAD_REQUEST` (errors `{}`); a charset other than UTF-8 is
415. A multipart body is parsed there too: one that cannot be cut into parts is 400. A lone
surrogate (`"\\ud800"`, which no UTF-8 text can hold and which MongoDB refuses) is 422 naming the field.
"""

import decimal
import io
import json
import re

from flask import current_app, g, request
from marshmallow import fields as ma_fields
from webargs import core
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import parse_form_data
from webargs.flaskparser import FlaskParser, is_json_request

from service.core.errors import UNKNOWN_FIELD, AppError

DEFAULT_BODY_LIMIT = 64 * 1024
MAX_DEPTH = 16
MAX_NUMBER_CHARS = 32
_BODY_LOCATIONS = frozenset({"json", "form", "files", "json_or_form"})
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# The same sentence the Text field (schemas/text.py) says, so the guide has one message for it.
TOO_DEEP_MESSAGE = "请求内容嵌套太深"
REPEATED_QUERY_MESSAGE = "此参数只能填写一次"
MULTIPART_UNREADABLE_MESSAGE = "上传内容无法读取（multipart/form-data 格式有误），请重新上传"
LONE_SURROGATE_MESSAGE = "含有无法识别的字符（不成对的代理项），请删除后重新输入"


class BadRequest(AppError):
    status = 400
    code = "BAD_REQUEST"
    message = "请求内容无法读取，请发送有效的 JSON"


class PayloadTooLarge(AppError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "请求内容太大"


class UnsupportedMediaType(AppError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "请求内容类型不受支持，请使用 JSON"


def body_limit(max_bytes, *, code=None, message=None):
    """Let one view take a body larger than the default limit, refused above it with
    413 `code` (default PAYLOAD_TOO_LARGE). Checked before the view and its login check run.
    `max_bytes` may be a function returning the limit (read on each request)."""

    def decorate(view):
        view._body_limit = (max_bytes, code, message)
        return view

    return decorate


# Room for the multipart envelope around an upload's file (part headers, boundaries, small fields).
MULTIPART_OVERHEAD = 64 * 1024


def upload_limit(max_file_bytes, *, code, message):
    """An upload view's limit: each file part at most `max_file_bytes` (a number or a function
    read on each request), the body at most that plus MULTIPART_OVERHEAD. Both refused with 413
    `code` before the view and its login check run: the file's own size, not only the body's, so
    a file a few bytes over its limit is refused alike with or without a token (finding q19 F14:
    such a file passed the body check and met the login check first)."""

    def decorate(view):
        view._body_limit = (lambda: _limit_value(max_file_bytes) + MULTIPART_OVERHEAD, code, message)
        view._file_limit = max_file_bytes
        return view

    return decorate


def _limit_value(limit):
    return limit() if callable(limit) else limit


# -- JSON ----------------------------------------------------------------------------------------

def _parse_int(text):
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError("number too long")
    return int(text)


def _parse_float(text):
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError("number too long")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    if value.is_integer() and decimal.Decimal(text) != decimal.Decimal(value):
        # 20.00000000000000000001 would become the whole number 20: the client sent a fraction.
        raise ValueError("fraction lost")
    return value


def _no_duplicate_keys(pairs):
    """An object naming a field twice is ambiguous (which one did the client mean?): unreadable."""
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("duplicate key")
    return value


def _refuse_constant(text):
    raise ValueError(f"{text} is not JSON")  # NaN, Infinity: Python accepts them, JSON does not


def _nest(path, message):
    """{"a": {"0": {"b": [message]}}} for the path ["a", 0, "b"]."""
    errors = [message]
    for part in reversed(path):
        errors = {str(part): errors}
    return errors if isinstance(errors, dict) else {"_schema": errors}


def _check_tree(value):
    """Depth and lone surrogates, walked without recursion (the tree came from the client)."""
    stack = [(value, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            if _LONE_SURROGATE.search(node):
                raise AppError("VALIDATION_ERROR", "填写的内容有误，请检查后重试", status=422,
                               errors=_nest(path, LONE_SURROGATE_MESSAGE))
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth >= MAX_DEPTH:
            raise BadRequest(message=TOO_DEEP_MESSAGE)
        if isinstance(node, dict):
            for key, item in node.items():
                if _LONE_SURROGATE.search(key):
                    raise AppError("VALIDATION_ERROR", "填写的内容有误，请检查后重试", status=422,
                                   errors=_nest(path, "字段名包含无法识别的字符"))
                stack.append((item, path + (key,), depth + 1))
        else:
            stack.extend((item, path + (index,), depth + 1) for index, item in enumerate(node))


def parse_json(data):
    """Bytes of a request body -> the JSON value; BadRequest / 422 as described above."""
    try:
        value = json.loads(data.decode("utf-8"), parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=_refuse_constant, object_pairs_hook=_no_duplicate_keys)
    except RecursionError:  # far deeper than MAX_DEPTH: the same answer as just past it
        raise BadRequest(message=TOO_DEEP_MESSAGE) from None
    except ValueError:  # JSONDecodeError (a BOM too), UnicodeDecodeError, number hooks, duplicate keys
        raise BadRequest() from None
    _check_tree(value)
    return value


def request_json():
    """The request's JSON body (core.missing when there is none), parsed once per request by
    `parse_json`: the view's parser and the before_request hooks that look into the body
    (classes.access) share the one parse."""
    if "parsed_json" not in g:
        if not is_json_request(request):
            g.parsed_json = core.missing
        else:
            data = read_body()
            g.parsed_json = parse_json(data) if data.strip() else core.missing
    return g.parsed_json


class RequestParser(FlaskParser):
    """webargs' Flask parser reading JSON through `parse_json`. `check_body` has already refused
    a non-JSON body, so a request that is not JSON here has none."""

    def _raw_load_json(self, req):
        return request_json()

    def load_json(self, req, schema):
        value = super().load_json(req, schema)
        # A PATCH changes the fields it sends: without any, it is a mistake (a lost body), not a no-op.
        if req.method == "PATCH" and (value is core.missing or value is None or value == {}):
            raise AppError("NO_CHANGES", "请填写要修改的内容", status=422,
                           errors={"_schema": ["请至少填写一项要修改的内容"]})
        return value


# -- the hook --------------------------------------------------------------------------------------

_expected_cache = {}


def _view_method():
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    method = request.method.lower()
    return getattr(view_class, method, None) or (getattr(view_class, "get", None) if method == "head" else None)


def _expectations():
    """(body locations the view reads, its body limit or None), cached per endpoint and method."""
    key = (request.endpoint, request.method)
    found = _expected_cache.get(key)
    if found is None:
        view = _view_method()
        parameters = (getattr(view, "_apidoc", None) or {}).get("arguments", {}).get("parameters", [])
        locations = frozenset(p.get("in") for p in parameters if isinstance(p, dict)) & _BODY_LOCATIONS
        found = _expected_cache[key] = (locations, getattr(view, "_body_limit", None),
                                         getattr(view, "_file_limit", None))
    return found


_known_query_cache = {}


def _known_query_names(view):
    """(names the view's query schemas take (their data keys), the names among them that are lists
    and so may repeat)."""
    key = (request.endpoint, request.method)
    found = _known_query_cache.get(key)
    if found is None:
        names, lists = set(), set()
        for parameter in view._apidoc.get("arguments", {}).get("parameters", []):
            schema = parameter.get("schema") if isinstance(parameter, dict) else None
            if parameter.get("in") == "query" and schema is not None:
                schema = schema() if isinstance(schema, type) else schema
                for name, field in schema.fields.items():
                    if not field.dump_only:
                        names.add(field.data_key or name)
                        if isinstance(field, ma_fields.List):
                            lists.add(field.data_key or name)
        found = _known_query_cache[key] = (frozenset(names), frozenset(lists))
    return found


def check_query():
    """Refuse query parameters the operation does not document, and a parameter given twice
    (`?page=1&page=2`: the parser would quietly take the first) (see the module docstring)."""
    if request.endpoint is None or not request.args or request.method == "OPTIONS":
        return None
    view = _view_method()
    if not hasattr(view, "_apidoc"):  # not an API operation: a page reads its own query string
        return None
    known, lists = _known_query_names(view)
    unknown = [name for name in request.args if name not in known]
    if unknown:
        raise AppError("VALIDATION_ERROR", "请求中有不认识的查询参数", status=422,
                       errors={name: [UNKNOWN_FIELD] for name in unknown})
    repeated = [name for name, values in request.args.lists() if len(values) > 1 and name not in lists]
    if repeated:
        raise AppError("VALIDATION_ERROR", "查询参数重复", status=422,
                       errors={name: [REPEATED_QUERY_MESSAGE] for name in repeated})
    return None


def read_body():
    """The body, at most `request.max_content_length` bytes. werkzeug stops a chunked body at the
    limit and hands back the truncated part as if complete (which then fails as malformed JSON):
    a chunked body that fills the limit is refused as too large."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise _too_large()
    return data


def _utf8_charset():
    charset = request.mimetype_params.get("charset")
    return charset is None or charset.lower().replace("_", "-") in ("utf-8", "utf8")


def _too_large():
    """413 with the view's own code (`@body_limit(code=...)`): the same answer for a chunked body
    cut off while read as for a Content-Length over the limit."""
    code, message = g.get("body_limit_refusal") or (None, None)
    return PayloadTooLarge(code, message)


def _has_body():
    if request.content_length:
        return True
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def check_body():
    if request.endpoint is None or request.method in ("GET", "HEAD", "OPTIONS") and not _has_body():
        return None
    locations, declared, file_limit = _expectations()
    limit, code, message = declared or (current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_BODY_LIMIT,
                                        None, None)
    limit = _limit_value(limit)
    # Per-request limit (Flask >= 3.1): werkzeug cuts a chunked body off at it with 413 too.
    request.max_content_length = limit
    g.body_limit_refusal = (code, message)
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(code, message)
    if not _has_body():
        return None
    if "json" in locations:
        if not request.is_json or not _utf8_charset():
            raise UnsupportedMediaType()
        request_json()  # syntax refused here, before the view's login check
        return None
    if locations:  # form or files: an upload
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType(message="请以 multipart/form-data 上传文件")
        _read_form()
        if file_limit is not None:
            _check_file_sizes(_limit_value(file_limit))
        return None
    _refuse_body()
    return None


def _read_form():
    """Parse the multipart body now, so a broken one is 400 before the login check. werkzeug's
    request parser reads a broken body silently as no parts (the file would be "missing"), and says
    413 for a body it cannot cut into parts (no delimiter: the whole body is one unfinished preamble
    held in memory past its form memory limit; more than 1,000 parts): both are a malformed body,
    not a large one. So the form is parsed here with werkzeug's public parser, not silent, and handed
    to the request as werkzeug does; a chunked body is read first (`read_body`: 413 at the size
    limit), so every 413 left is about the form's shape."""
    environ = request.environ
    if request.content_length is None:
        data = read_body()
        environ = {key: value for key, value in environ.items() if key != "HTTP_TRANSFER_ENCODING"}
        environ.update({"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
                        "wsgi.input_terminated": False})
    try:
        stream, form, files = parse_form_data(
            environ, silent=False, max_form_memory_size=request.max_form_memory_size,
            max_content_length=request.max_content_length, max_form_parts=request.max_form_parts,
            cls=request.parameter_storage_class)
    except (ValueError, RequestEntityTooLarge):
        raise BadRequest(message=MULTIPART_UNREADABLE_MESSAGE) from None
    request.__dict__.update(stream=stream, form=form, files=files)


def _check_file_sizes(limit):
    """413 (the view's code) if any file part of the parsed form is larger than `limit` bytes."""
    for _, upload in request.files.items(multi=True):
        stream = upload.stream
        position = stream.tell()
        size = stream.seek(0, io.SEEK_END)
        stream.seek(position)
        if size > limit:
            raise _too_large()


def _refuse_body():
    """The view takes no body: an empty one, `{}` or `null` pass; fields are refused."""
    data = read_body()
    if not data.strip():
        return
    if not request.is_json:
        raise UnsupportedMediaType(message="此接口不接受请求内容")
    value = parse_json(data)
    if value is None or value == {}:
        return
    if isinstance(value, dict):
        raise AppError("VALIDATION_ERROR", "此接口不接受这些字段", status=422,
                       errors={key: ["不允许的字段"] for key in value})
    # The same answer a JSON endpoint gives a body that is not an object (marshmallow's _schema).
    raise AppError("VALIDATION_ERROR", "此接口不接受请求内容", status=422,
                   errors={"_schema": ["此接口不接受请求内容"]})


def init_app(app):
    app.config.setdefault("MAX_CONTENT_LENGTH", DEFAULT_BODY_LIMIT)
    app.before_request(check_body)
    app.before_request(check_query)
