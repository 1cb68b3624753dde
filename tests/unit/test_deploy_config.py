"""The deployments of "Hosting at scale" (issue #21): the nginx config generated from
deploy/nginx/nginx.conf.template, docker-compose.yml and deploy/k8s/, checked without any engine:
`nginx -t` where nginx is installed, the compose specification's schema (bundled with
check-jsonschema) and Kubernetes' schemas (bundled with kubernetes-validate), plus what each must
say for this app (stickiness, websockets, limits, headers, the shared store)."""
from __future__ import annotations

import copy
import doctest
import json
import os
import re
from importlib import resources

import jsonschema
import pytest
import yaml

from app.state import headers, server
from deploy import scaled
from lessons.hosting.limits import HOSTED, current_limits
from tests.helpers import ROOT, run_apart

K8S = ROOT / "deploy" / "k8s"


def _rendered(tmp_path, upstreams=("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003")):
    conf = tmp_path / "nginx.conf"
    conf.write_text(scaled.render_nginx_conf(list(upstreams), "127.0.0.1:8089", tmp_path))
    return conf


def _block(conf: str, opening: str) -> str:
    """The text of the {...} block that starts with `opening` (no nested blocks inside)."""
    start = conf.index(opening)
    return conf[start:conf.index("}", start)]


def test_the_nginx_config_is_valid_and_says_what_the_app_needs(tmp_path):
    assert doctest.testmod(scaled).failed == 0
    conf_path = _rendered(tmp_path)
    conf = conf_path.read_text()
    if os.path.exists(scaled.NGINX):
        checked = scaled.nginx_config_test(conf_path)
        assert checked.returncode == 0, checked.stderr
    upstream = _block(conf, "upstream llm_explorer")
    # every replica, chosen by the stickiness cookie's value (or the first request's id)
    assert upstream.count("server 127.0.0.1:900") == 3
    assert "hash $llmx_sticky_key consistent;" in upstream
    assert re.search(r"''\s+\$request_id;\s+default \$cookie_llmx_replica;", conf)
    assert 'add_header Set-Cookie $llmx_set_cookie always;' in conf
    stream = _block(conf, "location = /_stcore/stream")
    for line in ("proxy_set_header Upgrade $http_upgrade;",
                 "proxy_set_header Connection $connection_upgrade;", "proxy_http_version 1.1;",
                 "limit_conn llmx_connections 30;", "proxy_read_timeout 300s;"):
        assert line in stream, line
    everything_else = _block(conf, "location / {")
    assert "limit_req zone=llmx_requests burst=200 nodelay;" in everything_else
    assert "limit_conn llmx_connections 30;" in everything_else
    # the body cap is the app's own cap on one upload in hosted mode
    assert f"client_max_body_size {server.upload_cap_mb(HOSTED)}m;" in conf
    assert server.upload_cap_mb(HOSTED) == scaled.upload_cap_mb() == 33
    assert "return 404;" in _block(conf, "location ~ ^/_stcore/metrics")
    # the proxy sends the app's own policy, to every response
    assert f'add_header Content-Security-Policy "{headers.CONTENT_SECURITY_POLICY}" always;' in conf
    assert "add_header X-Frame-Options SAMEORIGIN always;" in conf
    assert "frame-ancestors 'self'" in headers.CONTENT_SECURITY_POLICY
    # one page in both languages for 429 and a replica that is gone
    assert "error_page 429 502 503 504 /class-full.html;" in conf
    page = (scaled.STATIC_DIR / "class-full.html").read_text("utf-8")
    assert "The class is full" in page and "课堂暂时已满" in page and 'content="60"' in page


def test_the_compose_copy_of_the_nginx_config_is_current():
    """docker-compose.yml mounts deploy/nginx/nginx.conf: generated, never edited by hand."""
    assert (ROOT / "deploy" / "nginx" / "nginx.conf").read_text("utf-8") == scaled.compose_conf(), \
        "run: python deploy/scaled.py --write-compose-conf"


def _compose_schema() -> dict:
    path = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text("utf-8"))


def test_docker_compose_file_follows_the_compose_spec_and_shares_the_store():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    schema = _compose_schema()
    jsonschema.validate(compose, schema)
    broken = copy.deepcopy(compose)
    broken["services"]["app"]["enviroment"] = {}      # a misspelt key: the check can fail
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    app, nginx = compose["services"]["app"], compose["services"]["nginx"]
    env = app["environment"]
    assert env["LLM_EXPLORER_HOSTED"] == "1" and "STREAMLIT_SERVER_COOKIE_SECRET" in env
    assert f"store:{env['LLM_EXPLORER_STORE']}" in app["volumes"]
    assert current_limits({**env}).max_concurrent_trainings == int(app["deploy"]["resources"]
                                                                    ["limits"]["cpus"].split(".")[0])
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert any(v.startswith("./deploy/nginx/class-full.html:") for v in nginx["volumes"])
    assert "upstream llm_explorer" in (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    assert "server app:8501" in (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()


def _manifests() -> dict[str, dict]:
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text("utf-8")):
            found[doc["kind"]] = doc
    return found


def test_kubernetes_manifests_pass_the_schemas_and_fit_together():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    docs = _manifests()
    assert set(docs) == {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler",
                         "PersistentVolumeClaim"}
    for doc in docs.values():
        kubernetes_validate.validate(doc, "1.37.0", strict=True)
    broken = copy.deepcopy(docs["Deployment"])
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.37.0", strict=True)
    deployment, ingress = docs["Deployment"], docs["Ingress"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert docs["Service"]["spec"]["selector"] == labels
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/proxy-body-size"] == f"{scaled.upload_cap_mb()}m"
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] \
        == docs["Service"]["metadata"]["name"]
    assert docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] \
        == deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mount = container["volumeMounts"][0]
    assert env["LLM_EXPLORER_STORE"] == mount["mountPath"]
    claim = pod["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert docs["PersistentVolumeClaim"]["metadata"]["name"] == claim
    assert docs["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteMany"]
    # one training slot per core the pod may use
    assert env["LLM_EXPLORER_TRAINING_SLOTS"] == container["resources"]["limits"]["cpu"]


def test_replica_settings_come_from_the_environment_and_typos_stop_the_server():
    lim = current_limits({"LLM_EXPLORER_HOSTED": "1", "LLM_EXPLORER_TRAINING_SLOTS": "3"})
    assert (lim.max_concurrent_trainings, lim.max_sessions) == (3, HOSTED.max_sessions)
    with pytest.raises(ValueError, match="LLM_EXPLORER_MAX_SESSIONS"):
        current_limits({"LLM_EXPLORER_MAX_SESSIONS": "sixty"})
    env = scaled.replica_env(replicas=2, store=ROOT / "x", cookie_secret="s")
    assert env["LLM_EXPLORER_TRAINING_SLOTS"] == str(max(1, (os.cpu_count() or 1) // 2))
    assert env["LLM_EXPLORER_STORE"] == str(ROOT / "x")


def test_the_apps_own_headers_and_hidden_metrics():
    """app/state/headers.py SecurityHeaders around a stand-in ASGI app."""
    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html"), (b"x-frame-options", b"ALLOW")]})
        await send({"type": "http.response.body", "body": b"page"})

    def call(path):
        sent = []

        async def send(message):
            sent.append(message)
        run_apart(headers.SecurityHeaders(inner)({"type": "http", "path": path}, None, send))
        return sent[0]["status"], dict((k.decode(), v.decode()) for k, v in sent[0]["headers"])

    status, sent_headers = call("/")
    assert status == 200 and sent_headers["content-security-policy"] == headers.CONTENT_SECURITY_POLICY
    assert sent_headers["x-frame-options"] == "SAMEORIGIN"        # replaced, not doubled
    assert sent_headers["content-type"] == "text/html"
    assert call("/_stcore/metrics")[0] == 404
    assert call("/some/base/_stcore/metrics/")[0] == 404


def test_hosts_that_frame_the_app_can_be_let_in():
    """Hugging Face Spaces and Community Cloud show the app inside their own page."""
    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})

    sent = []

    async def send(message):
        sent.append(message)
    env = {headers.FRAME_ANCESTORS_ENV: "https://huggingface.co https://*.hf.space"}
    run_apart(headers.SecurityHeaders(inner, env)({"type": "http", "path": "/"}, None, send))
    sent_headers = dict((k.decode(), v.decode()) for k, v in sent[0]["headers"])
    assert "frame-ancestors 'self' https://huggingface.co https://*.hf.space" \
        in sent_headers["content-security-policy"]
    assert "x-frame-options" not in sent_headers
    with pytest.raises(ValueError, match="LLM_EXPLORER_FRAME_ANCESTORS"):
        headers.security_headers({headers.FRAME_ANCESTORS_ENV: "https://a.org; script-src *"})
