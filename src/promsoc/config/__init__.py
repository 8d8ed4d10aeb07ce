"""YAML -> typed, validated, frozen settings; every error names the file, line and key.

Entry point for the CLI and the console: `load_settings(config_path, url, source)`.
`config.example.yaml` at the repository root documents every key. The package, bottom up:

- `locations`: where files are (XDG), and which config file is used;
- `reader`: the YAML node tree with typed, located getters, and `ConfigError`;
- `model`: `Settings` and its sections; the keys a file may hold are derived from them;
- `sources`, `parsing`: the document -> the model, checked;
- `load`: discovery, `--url` and `--source`.

A source's connection settings (`Source`, `Auth`, `TLS`, `Secret`) are defined in
`promsoc.prom.settings` and per-detector changes (`DetectorOverride`) in
`promsoc.detectors.packs`; they are re-exported here for the loader's callers.
"""

from promsoc.config.load import NO_CONFIG_HELP, adhoc_alertmanager, adhoc_source, load_file, load_settings
from promsoc.config.model import AlertmanagerSettings, Kiosk, Serve, ServeSsh, ServeWeb, Settings
from promsoc.config.reader import ConfigError, Scalar, Value
from promsoc.detectors.packs import DetectorOverride
from promsoc.prom.settings import TLS, Auth, BasicAuth, BearerAuth, Secret, Source

__all__ = [
    "NO_CONFIG_HELP",
    "TLS",
    "AlertmanagerSettings",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "ConfigError",
    "DetectorOverride",
    "Kiosk",
    "Scalar",
    "Secret",
    "Serve",
    "ServeSsh",
    "ServeWeb",
    "Settings",
    "Source",
    "Value",
    "adhoc_alertmanager",
    "adhoc_source",
    "load_file",
    "load_settings",
]
