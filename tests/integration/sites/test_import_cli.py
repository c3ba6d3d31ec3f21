"""The `rounds` command for field data: imports with their row error report, adding a user,
generating visit plans (a real process on a SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.field import DEFINITIONS, REPO


def rounds(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ROUNDS_DATA_DIR": str(data), "ROUNDS_DEFINITIONS_DIR": str(DEFINITIONS)}
    return subprocess.run([sys.executable, "-m", "rounds.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)


def test_import_add_user_and_generate_plans(tmp_path: Path) -> None:
    assert rounds(tmp_path, "definitions", "sync").returncode == 0
    units = tmp_path / "units.csv"
    units.write_text("code,parent,kind,name_zh,name_en\ncity,,city,市公司,City\n"
                     "st_a,city,station,甲所,Station A\nbad,nope,station,坏,\n")
    refused = rounds(tmp_path, "import", "org-units", str(units))
    assert refused.returncode == 1
    assert refused.stdout.splitlines() == [
        "row 4, parent: no org unit 'nope' (a parent must exist or come on an earlier row) "
        "[unknown_reference]",
        "row 4, name_en: name_en is required [required]"]
    assert "nothing imported: 2 errors in 1 of 3 rows" in refused.stderr
    done = rounds(tmp_path, "import", "org-units", str(units), "--skip-bad-rows")
    assert done.returncode == 0, done.stderr
    assert "imported 2 of 3 rows; 1 bad row skipped" in done.stdout

    users = tmp_path / "users.csv"
    users.write_text("username,display_name,role,org_unit,phone,password\n"
                     "cm_a,张伟,customer_manager,st_a,,\n")
    made = rounds(tmp_path, "import", "users", str(users))
    assert made.returncode == 0, made.stderr
    assert "generated passwords" in made.stdout and "cm_a\t" in made.stdout

    added = rounds(tmp_path, "users", "add", "leader", "--role", "city_leader",
                   "--org-unit", "city")
    assert added.returncode == 0, added.stderr
    assert "password (shown this once):" in added.stdout
    clash = rounds(tmp_path, "users", "add", "leader", "--role", "wizard", "--org-unit", "x",
                   "--password", "long-enough")
    assert clash.returncode == 1
    assert {"/role_id", "/org_unit", "/username"} <= {
        line.split(":")[1] for line in clash.stdout.splitlines()}

    sites = tmp_path / "sites.csv"
    sites.write_text(
        "code,name,site_kind,org_unit,lat,lng,address,licence_no,shop_name,owner_name,grade,"
        "delivery_cycle,business_type,customer_manager\n"
        "R1,Shop 1,retailer,st_a,30.1,120.1,1 Road,330100000001,Shop 1,Wang,5,weekly,grocery,"
        "cm_a\n"
        "R2,Shop 2,retailer,st_a,30.1,120.1,2 Road,330100000002,Shop 2,Li,5,weekly,grocery,"
        "cm_a\n")
    imported = rounds(tmp_path, "import", "sites", str(sites))
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 of 2 rows" in imported.stdout

    plans = rounds(tmp_path, "plans", "generate", "--month", "2026-11")
    assert plans.returncode == 0, plans.stderr
    assert "visit plans 2026-11: 2 new, 0 changed, 0 removed, 0 unchanged (1 people)" \
        in plans.stdout
    again = rounds(tmp_path, "plans", "generate", "--month", "2026-11")
    assert "0 new, 0 changed, 0 removed, 2 unchanged" in again.stdout
    assert rounds(tmp_path, "plans", "generate", "--month", "11/2026").returncode == 1
    assert rounds(tmp_path, "import", "sites", str(tmp_path / "nope.csv")).returncode == 2
