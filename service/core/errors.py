"""Domain errors and the one place that turns every failure into the JSON error shape.

Shape: {"code": "STABLE_CODE", "message": "中文说明", "errors": {...}, "request_id": "..."}
"""

import logging

from flask import g, jsonify
from pymongo import errors as pymongo_errors
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error a service function raises on purpose."""

    status = 400
    code = "BAD_REQUEST"
    message = "请求有误"

    def __init__(self, code=None, message=None, *, errors=None, status=None, extra=None):
        super().__init__(code or self.code)
        self.code = code or self.code
        self.message = message or self.message
        self.errors = errors or {}
        self.status = status or self.status
        self.extra = extra or {}


class Unauthorized(AppError):
    status = 401
    code = "UNAUTHORIZED"
    message = "请先登录"


class Forbidden(AppError):
    status = 403
    code = "FORBIDDEN"
    message = "没有权限进行此操作"


class NotFound(AppError):
    status = 404
    code = "NOT_FOUND"
    message = "找不到要访问的内容"


class Conflict(AppError):
    status = 409
    code = "CONFLICT"
    message = "数据已被他人修改，请刷新后重试"


class RuleViolation(AppError):
    """A programme rule refuses the request (deadline passed, quota full, ...)."""

    status = 422
    code = "RULE_VIOLATION"
    message = "不符合规定，无法办理"

    def __init__(self, code, message, *, errors=None, status=None, extra=None):
        super().__init__(code, message, errors=errors, status=status, extra=extra)


class ServiceUnavailable(AppError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    message = "服务暂时不可用，请稍后重试"


# Codes and Chinese messages for failures raised by Flask / flask-smorest / werkzeug.
HTTP_ERRORS = {
    400: ("BAD_REQUEST", "请求格式有误"),
    401: ("UNAUTHORIZED", "请先登录"),
    403: ("FORBIDDEN", "没有权限进行此操作"),
    404: ("NOT_FOUND", "找不到要访问的内容"),
    405: ("METHOD_NOT_ALLOWED", "不支持这种请求方式"),
    409: ("CONFLICT", "数据冲突，请刷新后重试"),
    413: ("PAYLOAD_TOO_LARGE", "上传的内容太大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "请求内容类型不受支持，请使用 JSON"),
    422: ("VALIDATION_ERROR", "填写的内容有误，请检查后重试"),
    429: ("TOO_MANY_REQUESTS", "操作太频繁，请稍后再试"),
    500: ("INTERNAL_ERROR", "系统开小差了，请稍后重试"),
    503: ("SERVICE_UNAVAILABLE", "服务暂时不可用，请稍后重试"),
}


MAX_ERROR_ENTRIES = 50  # field entries in one answer; the rest are counted, not listed
MAX_UNKNOWN_LISTED = 5  # unknown fields named one by one at one level; more are summarised
MAX_KEY_CHARS = 64  # a field name echoed back (unknown fields come from the client)
UNKNOWN_FIELD = "不允许的字段"


def bounded_errors(errors):
    """The field map of an error answer, at most MAX_ERROR_ENTRIES entries: 500,000 unknown keys
    or a million bad list items must not make a 16 MB answer. Unknown fields beyond the first few
    of a level are summarised in `_unknown`; entries past the budget in `_truncated`."""
    if not isinstance(errors, dict):
        errors = {"_schema": errors} if errors else {}
    budget = [MAX_ERROR_ENTRIES]
    dropped = [0]

    def walk(node):
        if isinstance(node, (list, tuple)):
            return [str(message)[:200] for message in node[:5]]
        if not isinstance(node, dict):
            return [str(node)[:200]]
        out, unknown = {}, []
        for key, value in node.items():
            if value == [UNKNOWN_FIELD]:
                unknown.append(str(key)[:MAX_KEY_CHARS])
                continue
            if budget[0] <= 0:
                dropped[0] += 1
                continue
            if isinstance(value, (list, tuple)) or not isinstance(value, dict):
                budget[0] -= 1
            out[str(key)[:MAX_KEY_CHARS]] = walk(value)
        unknown.sort()  # marshmallow collects them in a set: one order for the same request
        listed = unknown[:MAX_UNKNOWN_LISTED] if len(unknown) <= MAX_UNKNOWN_LISTED else []
        for key in listed:
            if budget[0] <= 0:
                dropped[0] += 1
                continue
            budget[0] -= 1
            out[key] = [UNKNOWN_FIELD]
        if unknown and not listed:
            out["_unknown"] = [f"{UNKNOWN_FIELD}：{'、'.join(unknown[:MAX_UNKNOWN_LISTED])} 等 {len(unknown)} 个"]
        return out

    result = walk(errors)
    if dropped[0]:
        result["_truncated"] = [f"另有 {dropped[0]} 处错误未列出"]
    return result


def error_body(code, message, errors=None, **extra):
    body = {"code": code, "message": message, "errors": bounded_errors(errors) if errors else {},
            "request_id": g.get("request_id", "")}
    body.update(extra)
    return body


def _validation_errors(exc):
    """flask-smorest puts marshmallow messages under data['messages'][location]."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    if isinstance(messages, dict) and len(messages) == 1:
        return next(iter(messages.values()))
    return messages


def handle_app_error(exc):
    response = jsonify(error_body(exc.code, exc.message, exc.errors, **exc.extra))
    response.status_code = exc.status
    if exc.status == 503:
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def handle_http_exception(exc):
    code, message = HTTP_ERRORS.get(exc.code, ("HTTP_%s" % exc.code, "请求无法处理"))
    errors = _validation_errors(exc) if exc.code in (400, 422) else {}
    if exc.code == 400 and errors:
        code, message = HTTP_ERRORS[422]
    response = jsonify(error_body(code, message, errors))
    response.status_code = exc.code
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


# MongoDB answers that mean "the database cannot serve this now", not "this request is wrong":
# not primary / stepping down / shutting down, network and time limits, write concern not met.
DATABASE_UNAVAILABLE_CODES = frozenset({
    6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,  # host, network, shutdown, not primary
    50, 64, 100,  # MaxTimeMSExpired, WriteConcernFailed, UnsatisfiableWriteConcern
})
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable(exc):
    """True when a pymongo error means the database is unreachable or cannot take the command now."""
    if isinstance(exc, (pymongo_errors.ConnectionFailure, pymongo_errors.ExecutionTimeout,
                        pymongo_errors.WTimeoutError, pymongo_errors.WaitQueueTimeoutError)):
        return True
    if isinstance(exc, pymongo_errors.PyMongoError) and (
            exc.has_error_label("RetryableWriteError") or exc.has_error_label("TransientTransactionError")):
        return True
    return isinstance(exc, pymongo_errors.OperationFailure) and exc.code in DATABASE_UNAVAILABLE_CODES


def handle_database_error(exc):
    """503 DATABASE_UNAVAILABLE with Retry-After for a database that cannot answer; any other
    database error is our fault (500). The failed command itself wrote nothing (each MongoDB
    command is atomic per document)."""
    if not database_unavailable(exc):
        return handle_unexpected(exc)
    log.warning("database unavailable: %s", type(exc).__name__)
    response = jsonify(error_body("DATABASE_UNAVAILABLE", "数据库暂时不可用，请稍后重试"))
    response.status_code = 503
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def handle_unexpected(exc):
    # The trace goes to the log (with the request id), never into the body.
    log.exception("unhandled error")
    code, message = HTTP_ERRORS[500]
    return jsonify(error_body(code, message)), 500


def register(app):
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(pymongo_errors.PyMongoError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
