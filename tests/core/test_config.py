"""Production refuses development secrets and the fake WeChat, naming each problem."""

import pytest

from service import create_app
from service.config import ConfigError, load

GOOD = {
    "APP_ENV": "production",
    "MONGODB_URI": "mongodb://db.example:27017/?replicaSet=rs0",
    "SECRET_KEY": "s" * 40,
    "DATA_KEY": "d" * 40,
    "WECHAT_APPID": "wx1234567890abcdef",
    "WECHAT_SECRET": "real-secret",
    "WECHAT_API_BASE": "https://api.weixin.qq.com/",
    "CHECKIN_URL_PREFIX": "https://px.miit-training.cn/q/checkin/",
    "PUBLIC_BASE_URL": "https://lingjun.example.cn",
}


def test_good_production_settings_load():
    assert load(GOOD)["APP_ENV"] == "production"


@pytest.mark.parametrize("change, named", [
    ({"SECRET_KEY": "dev-secret-key-change-me"}, "SECRET_KEY"),
    ({"DATA_KEY": "dev-data-key-change-me"}, "DATA_KEY"),
    ({"WECHAT_APPID": ""}, "WECHAT_APPID"),
    ({"WECHAT_SECRET": ""}, "WECHAT_SECRET"),
    ({"WECHAT_API_BASE": "http://127.0.0.1:8765/"}, "WECHAT_API_BASE"),
    ({"MONGODB_URI": None}, "MONGODB_URI"),
    ({"CHECKIN_URL_PREFIX": "https://lingjun.example.cn/q/checkin/"}, "CHECKIN_URL_PREFIX"),
    ({"CHECKIN_URL_PREFIX": "http://px.miit-training.cn/q/checkin/"}, "CHECKIN_URL_PREFIX"),
    ({"CHECKIN_URL_PREFIX": "https://px.miit-training.cn/"}, "CHECKIN_URL_PREFIX"),
    ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL"),
])
def test_production_refuses(change, named):
    with pytest.raises(ConfigError) as refused:
        create_app({**GOOD, **change})
    assert named in str(refused.value)


def test_production_names_every_missing_setting():
    with pytest.raises(ConfigError) as refused:
        load({"APP_ENV": "production"})
    for name in ("SECRET_KEY", "DATA_KEY", "WECHAT_APPID", "WECHAT_SECRET", "MONGODB_URI", "PUBLIC_BASE_URL"):
        assert name in str(refused.value)


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("MONGODB_DB", "from_env")
    monkeypatch.setenv("TOKEN_TTL_HOURS", "5")
    settings = load()
    assert settings["MONGODB_DB"] == "from_env"
    assert settings["TOKEN_TTL_HOURS"] == 5


def test_development_defaults_are_allowed():
    assert load({"APP_ENV": "development"})["SECRET_KEY"]
