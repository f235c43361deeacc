"""Backend of the SME leader training mini-program (中小企业经营管理领军人才培训)."""

from service.app import create_app

__all__ = ["create_app"]
