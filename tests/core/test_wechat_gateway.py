"""The WeChat gateway goes through wechatpy to the fake and shares one access token."""

import pytest

from service.core.wechat import ACCESS_TOKENS, WeChatError, get_gateway


def test_access_token_is_shared_through_mongodb(ctx, fake_wechat, db):
    before = fake_wechat.token_fetches
    # Two gateway instances stand for two worker processes.
    get_gateway().send_subscribe_message("oFAKE-a", "tmpl-1", {"thing1": {"value": "x"}})
    get_gateway().send_subscribe_message("oFAKE-b", "tmpl-1", {"thing1": {"value": "y"}})
    assert fake_wechat.token_fetches == before + 1
    assert db[ACCESS_TOKENS].count_documents({}) == 1
    assert [m["touser"] for m in fake_wechat.messages[-2:]] == ["oFAKE-a", "oFAKE-b"]


def test_refused_message_raises_with_errcode(ctx):
    with pytest.raises(WeChatError) as refused:
        get_gateway().send_subscribe_message("oFAKE-x-refuse", "tmpl-1", {})
    assert refused.value.errcode == 43101
    assert not refused.value.unavailable


def test_phone_number_exchange(ctx):
    assert get_gateway().get_phone_number("phone-13912345678")["purePhoneNumber"] == "13912345678"


def test_unlimited_code_is_png(ctx):
    png = get_gateway().get_unlimited_code("s=abc", page="pages/checkin/index")
    assert png.startswith(b"\x89PNG")


def test_unlimited_code_scene_too_long(ctx):
    with pytest.raises(WeChatError) as refused:
        get_gateway().get_unlimited_code("x" * 33)
    assert refused.value.errcode == 40169
