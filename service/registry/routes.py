"""PLACEHOLDER (to be replaced by the registry feature)."""
from flask_smorest import Blueprint

blp = Blueprint("registry", __name__, url_prefix="/api/v1/registry", description="Enterprise registry")
