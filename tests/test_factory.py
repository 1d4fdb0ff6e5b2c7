"""The app factory, configuration and the security basics every page has."""

import pytest

from mediation import create_app, normalise_database_url


def test_testing_config_is_used(app):
    assert app.config["TESTING"]
    assert app.config["ENV_NAME"] == "testing"


def test_production_refuses_missing_or_weak_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("MEDIATION_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY="short")


FERNET_KEY = "Vb4mVOLk0x8l8r2ZqgXz7mYp3m3QqzGJ1uE3aVxQe7c="


def test_production_refuses_missing_field_encryption_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY", raising=False)
    with pytest.raises(RuntimeError, match="FIELD_ENCRYPTION_KEY"):
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_refuses_a_missing_public_address(monkeypatch):
    """Every agreement's QR code carries it for good: not the Host of some request."""
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", FERNET_KEY)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")


def test_environment_is_read_inside_the_factory(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", FERNET_KEY)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tiaojie.example.gov.cn")
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/mediation")
    monkeypatch.setenv("AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    app = create_app("production")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == \
        "postgresql+psycopg://someone@db.example/mediation"
    assert app.config["SESSION_IDLE_TIMEOUT"].total_seconds() == 300
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.debug is False


def test_production_cookie_flags(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "y" * 40)
    monkeypatch.setenv("AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", FERNET_KEY)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tiaojie.example.gov.cn")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_config_name_is_a_clear_error():
    with pytest.raises(RuntimeError, match="MEDIATION_CONFIG"):
        create_app("staging")


def test_database_url_normalised_to_psycopg3():
    assert normalise_database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_no_inline_script_or_style_in_pages(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html
    assert "https://" not in html  # everything local: no CDN


def test_static_files_may_be_cached(client):
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert response.headers.get("Cache-Control") != "no-store"


def test_pages_need_login(client):
    """Staff pages do; "/" is the residents' front page for anyone not logged in."""
    response = client.get("/cases/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/").status_code == 200


def test_not_found_page_in_chinese_and_english(client, auth):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "此页面不存在" in response.get_data(as_text=True)
    auth.post("/language", {"lang": "en", "next": "/login"}, form_url="/login")
    response = client.get("/no-such-page")
    assert "This page does not exist" in response.get_data(as_text=True)
