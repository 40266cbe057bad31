"""Wiring for `gridbot run`: the /wechat route and the "wechat"/"wecom" outbox transports."""

from collections.abc import Callable

import httpx
from starlette.routing import Route

from bot.config import Settings
from bot.wechat.api import WeChatApi
from bot.wechat.callback import WeChatCallback
from bot.wechat.delivery import RobotLimiter, wechat_transport, wecom_transport
from bot.workers import Handlers
from handlers.context import Services

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def wecom_parts(settings: Settings, client: httpx.AsyncClient) -> dict:
    """Group robots need no configuration of their own: each grid row names its webhook."""
    limiter = RobotLimiter(settings.wecom_robot_rate, settings.wecom_robot_window)
    return {"wecom": wecom_transport(client, limiter)}


def wechat_parts(
    settings: Settings,
    services: Services,
    client: httpx.AsyncClient,
    wake: Callable[[], None],
    workers: Handlers | None = None,
) -> tuple[list[Route], dict]:
    callback = WeChatCallback(
        services, settings.wechat_token, settings.wechat_appid, settings.wechat_aes_key, wake, workers=workers
    )
    api = WeChatApi(settings.wechat_api_url, settings.wechat_appid, settings.wechat_secret or "", client)
    transport = wechat_transport(api, services.engine, services.clock, settings.wechat_template_id)
    return [Route("/wechat", callback.receive, methods=["GET", "POST"])], {"wechat": transport}


def http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT)


def warm_up(services: Services) -> None:
    """Load the classifier, the intent model and the act models before the first message: their first use takes
    seconds, and WeChat gives 5."""
    from handlers.acts import chat_model, follow_up_model
    from handlers.classifier import classify
    from handlers.intent import intent_model

    classify("楼道里的灯坏了", services.policy)
    intent_model()
    chat_model()
    follow_up_model()
