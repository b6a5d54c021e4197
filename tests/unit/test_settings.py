from __future__ import annotations

import pytest

from gateway.errors import ConfigurationError
from gateway.settings import load_settings


def test_environment_overrides_file(tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text('gateway_id = "KR"\nport = 9000\nvalidate_responses = true\n')
    settings = load_settings(config, environ={"GATEWAY_PORT": "9100"})
    assert (settings.gateway_id, settings.port, settings.validate_responses) == ("KR", 9100, True)


def test_unknown_setting_in_file_is_an_error(tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text("prot = 9000\n")
    with pytest.raises(ConfigurationError, match="unknown setting 'prot'"):
        load_settings(config, environ={})


def test_badly_typed_value_is_an_error():
    with pytest.raises(ConfigurationError, match="port"):
        load_settings(environ={"GATEWAY_PORT": "eighty"})


def test_lower_case_gateway_id_is_an_error():
    with pytest.raises(ConfigurationError, match="upper-case"):
        load_settings(environ={"GATEWAY_GATEWAY_ID": "jp"})
