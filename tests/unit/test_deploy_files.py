"""The shipped deployment files (deploy/) and the production guide (docs/operations.md) say
only what Rounds does: the settings they name exist and their values are valid, the `rounds`
commands they run are accepted by `rounds`, the services start in order, and one schedule."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.deploy import (
    REPO,
    SETTING,
    parse_command,
    rounds_commands,
    setting_names,
    sh_blocks,
)

DEPLOY = REPO / "deploy"
GUIDE = REPO / "docs" / "operations.md"
PROFILE = REPO / "docs" / "deploy.md"  # the production profile
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
# Variables that are not Rounds' own but that its processes read (uvicorn: which proxies'
# X-Forwarded-* headers are believed).
OTHERS = {"FORWARDED_ALLOW_IPS"}


def _unit(path: Path) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    unit.read(path)
    return unit


def _env_sample() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (DEPLOY / "rounds.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def _compose_command(service: dict[str, Any]) -> list[list[str]]:
    command = service.get("command")
    if command is None:
        return []
    if isinstance(command, str):
        return rounds_commands(command)
    if command[:2] == ["sh", "-c"]:
        return rounds_commands(command[2])
    return rounds_commands(shlex.join(command))


def _rounds_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if _compose_command(s)}


def test_every_setting_the_files_and_the_guide_name_exists() -> None:
    known = setting_names()
    for path in [GUIDE, PROFILE, DEPLOY / "rounds.env.example", DEPLOY / "compose.yaml",
                 DEPLOY / "Containerfile", DEPLOY / "nginx.conf", *UNITS]:
        unknown = set(SETTING.findall(path.read_text())) - known
        assert not unknown, f"{path.relative_to(REPO)} names no setting: {sorted(unknown)}"


def test_the_env_sample_is_valid_settings() -> None:
    from rounds.settings import load_settings

    sample = _env_sample()
    assert set(sample) - setting_names() <= OTHERS, set(sample) - setting_names() - OTHERS
    settings = load_settings(sample)  # refuses a value of the wrong kind, as a process would
    assert settings.redis.url, "several API processes (ROUNDS_SERVER_WORKERS) need Redis"
    assert settings.server.workers > 1
    assert settings.database_url.startswith("postgresql+asyncpg://")


def test_every_rounds_command_in_the_guide_is_one_rounds_accepts() -> None:
    commands = [argv for block in sh_blocks(GUIDE.read_text()) for argv in rounds_commands(block)]
    assert ["serve", "--workers", "2"] in commands
    assert ["db", "upgrade"] in commands
    for argv in commands:
        parse_command(argv)


def test_every_rounds_command_of_the_production_profile_is_one_rounds_accepts() -> None:
    commands = [argv for block in sh_blocks(PROFILE.read_text())
                for argv in rounds_commands(block)]
    assert [argv[0] for argv in commands].count("beat") == 1  # one schedule
    for argv in commands:
        parse_command(argv)


def test_the_guide_names_every_shipped_file() -> None:
    guide = GUIDE.read_text()
    for path in [*DEPLOY.rglob("*")]:
        if path.is_file():
            assert str(path.relative_to(REPO)) in guide, f"{path} is not in the guide"
    for section in ("Health and readiness", "Metrics", "Logs", "Signals and stopping",
                    "One schedule", "Backups", "Upgrades", "What to alert on"):
        assert re.search(rf"^## {section}$", guide, flags=re.M), section


@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_a_unit_runs_a_rounds_command_with_the_settings_file(path: Path) -> None:
    unit = _unit(path)
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/opt/rounds/.venv/bin/rounds"
    parse_command(argv[1:])
    assert service["EnvironmentFile"] == "/etc/rounds/rounds.env"
    assert service["User"] == "rounds"
    # SIGTERM to the main process only (it stops its own children), SIGKILL to the rest.
    assert service["KillMode"] == "mixed" and service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"]


def test_the_units_are_an_api_m_workers_and_one_schedule() -> None:
    commands = {p.name: shlex.split(_unit(p)["Service"]["ExecStart"])[1:] for p in UNITS}
    assert set(commands) == {"rounds-api.service", "rounds-worker@.service",
                             "rounds-beat.service"}
    assert commands["rounds-api.service"][0] == "serve"
    worker = commands["rounds-worker@.service"]
    assert worker[0] == "worker" and "--beat" not in worker  # the schedule is beat's alone
    assert "%i" in worker[worker.index("--hostname") + 1]  # one name per instance
    assert commands["rounds-beat.service"] == ["beat"]


def test_the_api_unit_gives_the_drain_time_to_finish() -> None:
    from rounds.settings import load_settings

    drain = load_settings(_env_sample()).server.drain_seconds
    service = _unit(DEPLOY / "systemd" / "rounds-api.service")["Service"]
    assert int(service["TimeoutStopSec"]) > drain
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"  # new processes, port kept open


def test_compose_services_start_in_order_and_run_one_schedule() -> None:
    compose = _compose()
    services = compose["services"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"
    ours = _rounds_services(compose)
    assert set(ours) == {"migrate", "api", "worker", "beat"}
    for name, service in ours.items():
        for argv in _compose_command(service):
            parse_command(argv)
        needs = service["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy", name
        if name != "migrate":
            assert needs["redis"]["condition"] == "service_healthy", name
            assert needs["migrate"]["condition"] == "service_completed_successfully", name
        env = service["environment"]
        assert set(env) - setting_names() <= OTHERS, (name, set(env) - setting_names())
    assert _compose_command(ours["migrate"]) == [["db", "upgrade"], ["definitions", "sync"]]
    schedules = [name for name, s in ours.items()
                 if any(argv[0] == "beat" or "--beat" in argv for argv in _compose_command(s))]
    assert schedules == ["beat"]
    assert "replicas" not in ours["beat"].get("deploy", {})
    api = _compose_command(ours["api"])[0]
    assert api[0] == "serve" and ours["api"]["environment"]["ROUNDS_REDIS_URL"]


def test_compose_builds_the_image_from_the_repository() -> None:
    compose = _compose()
    build = compose["services"]["api"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]).is_file()


def test_the_containerfile_installs_everything_at_build_time() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    instructions = re.findall(r"^([A-Z]+)\s+(.*?)(?<!\\)$", text.replace("\\\n", " "),
                              flags=re.M)
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "npm ci" in runs and "pip install" in runs
    for op, args in instructions:
        if op == "COPY" and not args.startswith("--from"):
            *sources, _ = args.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"
    cmd = next(args for op, args in instructions if op == "CMD")
    parse_command(yaml.safe_load(cmd)[1:])  # the JSON form: ["rounds", ...]
    for op, args in instructions:
        if op == "ENV":
            assert set(SETTING.findall(args)) <= setting_names()
    # Nothing fetched when a container starts: the final stage only copies what the build
    # stage installed.
    final = text.rsplit("\nFROM ", 1)[1].replace("\\\n", " ")
    for line in re.findall(r"^RUN (.*)$", final, flags=re.M):
        assert not re.search(r"\b(curl|wget|npm|pip)\b", line), line


def test_the_proxy_does_not_buffer_live_streams_and_hides_metrics() -> None:
    text = (DEPLOY / "nginx.conf").read_text()
    assert text.count("{") == text.count("}")
    stream = re.search(r"location = /api/notifications/stream \{(.*?)\}", text, flags=re.S)
    assert stream and "proxy_buffering off;" in stream.group(1)
    metrics = re.search(r"location = /metrics \{(.*?)\}", text, flags=re.S)
    assert metrics and "return 404;" in metrics.group(1)
    assert "ssl_certificate " in text and "return 301 https://" in text
    assert "X-Request-ID $request_id" in text


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """systemd's own reading of the units (every directive and value), where it is
    installed; only the missing program (Rounds is not installed in /opt here) is let by."""
    import shutil
    import subprocess

    if shutil.which("systemd-analyze") is None:  # pragma: no cover - Debian has it
        pytest.skip("no systemd-analyze")
    for path in UNITS:
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(DEPLOY / "systemd" / "rounds-worker@.service",
                tmp_path / "rounds-worker@1.service")
    names = [f"./{p.name}" for p in UNITS if "@." not in p.name] + ["./rounds-worker@1.service"]
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if line and "/opt/rounds/.venv/bin/rounds is not executable" not in line]
    assert not complaints, complaints
