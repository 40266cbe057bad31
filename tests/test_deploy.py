"""deploy/ as an operator uses it. Docker does not run where the tests run, so `docker compose config`
cannot: the compose file is read as YAML and checked for what the README promises."""

from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_compose_runs_postgres_three_workers_and_nginx_in_front():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert set(services) == {"db", "worker", "nginx"}
    assert services["db"]["image"].startswith("postgres:")
    worker = services["worker"]
    assert worker["deploy"]["replicas"] == 3
    assert worker["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (
        worker["environment"]["GRIDBOT_DATABASE_URL"].startswith("postgresql+psycopg://")
        and "@db:5432/" in worker["environment"]["GRIDBOT_DATABASE_URL"]
    )
    assert worker["depends_on"]["db"]["condition"] == "service_healthy"
    nginx = services["nginx"]
    assert nginx["image"].startswith("nginx:") and "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert (DEPLOY / "gridbot.env.example").exists()  # env_file's template


def test_nginx_sends_both_webhooks_to_the_workers():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "server worker:8080;" in conf
    for location in ("location = /telegram {", "location = /wechat {"):
        block = conf.split(location, 1)[1].split("}", 1)[0]
        assert "proxy_pass http://gridbot;" in block


def test_the_image_runs_as_a_user_and_migrates_before_serving():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "\nUSER gridbot\n" in dockerfile
    assert 'CMD ["sh", "-c", "gridbot migrate && exec gridbot run"]' in dockerfile
