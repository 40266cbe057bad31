"""Settings from the environment (or a .env file), as listed in CONTRACT.md."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDBOT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///gridbot.db"
    timezone: str = "Asia/Shanghai"
    config: Path | None = None

    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_rate: float = 30.0  # messages per second, the whole bot
    telegram_group_rate: int = 20  # messages per minute, per group

    tick_seconds: float = 30.0  # how often the scheduler looks for due reminders
    handler_process: bool = True  # SQLite: the handlers in a process of their own (bot/handler_process.py)

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_url: str | None = None  # GRIDBOT_PUBLIC_URL: the address people reach the HTTP server at

    @property
    def reachable_url(self) -> str:
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    wechat_appid: str | None = None
    wechat_secret: str | None = None
    wechat_token: str | None = None
    wechat_aes_key: str | None = None
    wechat_api_url: str = "https://api.weixin.qq.com"
    wechat_template_id: str | None = None  # template message for notices outside the 48 h window
    wecom_robot_rate: int = 20  # messages per window, per WeCom group robot
    wecom_robot_window: float = 60.0  # seconds

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def wechat_enabled(self) -> bool:
        return bool(self.wechat_appid and self.wechat_token)
