//! Config problems that are only found after parsing (a secret's variable
//! not set, the app database, a table or a column missing) still point at
//! the key that names them, through the real `hubsync run`; a file that is
//! not UTF-8 says where; and one app column written from two HubSpot
//! properties is refused where it would write the app.

use hubsync::config::Config;
use std::path::{Path, PathBuf};
use std::process::Command;

const EXAMPLE: &str = include_str!("../fixtures/hubsync.example.toml");

fn parse(text: &str) -> Result<Config, hubsync::config::ConfigError> {
    Config::parse(Path::new("hubsync.toml"), text)
}

/// The 1-based line of the first non-comment line holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle) && !l.trim_start().starts_with('#'))
        .unwrap_or_else(|| panic!("no line holds {needle:?}"))
        + 1
}

fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "no {from:?} in the config");
    text.replacen(from, to, 1)
}

/// The example, pointed at an app database made in `dir` (unless
/// `app_db` says otherwise), written to `dir/hubsync.toml`.
fn config_in(dir: &Path, edit: impl FnOnce(String) -> String) -> (PathBuf, String) {
    let app_db = dir.join("app.db");
    hubsync::appdb::demo::create(&app_db, &[]).unwrap();
    let text = replaced(
        &replaced(EXAMPLE, "https://api.hubapi.com", "http://127.0.0.1:9"),
        "/var/lib/myapp/app.db",
        app_db.to_str().unwrap(),
    );
    let text = edit(text);
    let path = dir.join("hubsync.toml");
    std::fs::write(&path, &text).unwrap();
    (path, text)
}

/// `hubsync run` on `config`: it must refuse to start; its error output.
fn run_refused(dir: &Path, config: &Path, env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args(["run", "--config", config.to_str().unwrap(), "--data-dir"])
        .arg(dir.join("data"))
        .env_remove("HUBSYNC_HUBSPOT_TOKEN")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(!out.status.success(), "hubsync run started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn at(config: &Path, line: usize, column: usize) -> String {
    format!("{}:{line}:{column}:", config.display())
}

#[test]
fn a_token_variable_that_is_not_set_is_named_at_the_key_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = config_in(dir.path(), |t| t);
    let err = run_refused(dir.path(), &config, &[]);
    let line = line_of(&text, "token_env = ");
    assert!(
        err.contains(&format!(
            "{} the environment variable HUBSYNC_HUBSPOT_TOKEN (named by hubspot.token_env) is not set",
            at(&config, line, 1)
        )),
        "{err}"
    );
}

#[test]
fn a_webhook_secret_variable_that_is_not_set_is_named_at_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = config_in(dir.path(), |t| {
        t + "\n[webhook]\nlisten = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1/hook\"\nclient_secret_env = \"HUBSYNC_TEST_NEVER_SET_SECRET\"\n"
    });
    let err = run_refused(dir.path(), &config, &[("HUBSYNC_HUBSPOT_TOKEN", "pat-x")]);
    let line = line_of(&text, "client_secret_env = ");
    assert!(
        err.contains(&at(&config, line, 1)) && err.contains("HUBSYNC_TEST_NEVER_SET_SECRET"),
        "{err}"
    );
}

#[test]
fn a_missing_app_database_is_named_at_the_database_key() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = config_in(dir.path(), |t| t.replace("app.db", "gone.db"));
    let err = run_refused(dir.path(), &config, &[("HUBSYNC_HUBSPOT_TOKEN", "pat-x")]);
    let line = line_of(&text, "database = ");
    assert!(
        err.contains(&at(&config, line, 1))
            && err.contains("gone.db")
            && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn a_table_the_app_database_lacks_is_named_at_the_table_key() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = config_in(dir.path(), |t| {
        replaced(&t, "table = \"contacts\"", "table = \"people\"")
    });
    let err = run_refused(dir.path(), &config, &[("HUBSYNC_HUBSPOT_TOKEN", "pat-x")]);
    let line = line_of(&text, "table = \"people\"");
    assert!(
        err.contains(&at(&config, line, 1)) && err.contains("no table people"),
        "{err}"
    );
}

#[test]
fn a_column_the_table_lacks_is_named_at_the_field_that_maps_it() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = config_in(dir.path(), |t| {
        replaced(&t, "app = \"job_title\"", "app = \"job_titel\"")
    });
    let err = run_refused(dir.path(), &config, &[("HUBSYNC_HUBSPOT_TOKEN", "pat-x")]);
    let line = line_of(&text, "app = \"job_titel\"");
    assert!(
        err.contains(&at(&config, line, 1)) && err.contains("no column job_titel"),
        "{err}"
    );
}

#[test]
fn hubsync_check_points_at_the_key_too() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = config_in(dir.path(), |t| {
        replaced(&t, "app = \"job_title\"", "app = \"job_titel\"")
    });
    let out = Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args(["check", "--config", config.to_str().unwrap()])
        .env("HUBSYNC_HUBSPOT_TOKEN", "pat-x")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = line_of(&text, "app = \"job_titel\"");
    assert!(all.contains(&at(&config, line, 1)), "{all}");
}

#[test]
fn a_file_that_is_not_utf8_says_at_which_byte_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (config, text) = config_in(dir.path(), |t| t);
    let line = line_of(&text, "table = ");
    let offset = text.find("table = ").unwrap();
    let mut bytes = text.into_bytes();
    bytes.splice(offset..offset, *b"\xff\xfe");
    std::fs::write(&config, bytes).unwrap();
    let err = run_refused(dir.path(), &config, &[("HUBSYNC_HUBSPOT_TOKEN", "pat-x")]);
    assert!(
        err.contains(&format!(
            "{} not UTF-8 at byte {offset}",
            at(&config, line, 1)
        )),
        "{err}"
    );
    assert!(!err.contains(":0:0"), "{err}");
}

#[test]
fn a_file_that_cannot_be_read_names_it_without_a_position() {
    let e = Config::load(Path::new("/nonexistent/hubsync.toml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/hubsync.toml: cannot read the config file: No such file or directory (os error 2)"
    );
}

/// The example's contacts with a second field writing the `company`
/// column, from `city`, and the object's direction set to `direction`.
fn company_twice(direction: &str, second_field_direction: Option<&str>) -> String {
    let extra = format!(
        "\n[[objects.contacts.fields]]\napp = \"company\"\nhubspot = \"city\"\n{}",
        second_field_direction.map_or(String::new(), |d| format!("direction = \"{d}\"\n"))
    );
    let text = replaced(
        EXAMPLE,
        "direction = \"to_hubspot\"",
        &format!("direction = \"{direction}\""),
    );
    let at = text
        .find("[[objects.contacts.fields]]\napp = \"job_title\"")
        .unwrap();
    let mut out = text.clone();
    out.insert_str(at, &extra[1..]);
    out
}

#[test]
fn one_app_column_from_two_hubspot_properties_is_refused_naming_both_fields() {
    let text = company_twice("both", None);
    let e = parse(&text).unwrap_err();
    let first = line_of(&text, "app = \"company\"") - 1;
    assert!(
        e.message.contains("\"company\"")
            && e.message.contains("company")
            && e.message.contains("city")
            && e.message.contains(&format!("line {first}")),
        "{e}"
    );
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("hubspot = \"city\""))
        .map(|(i, _)| i + 1)
        .next()
        .unwrap();
    assert!(
        (second - 2..=second).contains(&e.line),
        "{e} is not at the second field (line {second})"
    );
}

#[test]
fn one_app_column_from_two_properties_is_refused_when_both_flow_only_to_the_app() {
    let e = parse(&company_twice("both", Some("to_app"))).unwrap_err();
    assert!(
        e.message.contains("written from two HubSpot properties"),
        "{e}"
    );
}

#[test]
fn one_app_column_sent_to_two_properties_is_fine_when_nothing_writes_the_app() {
    parse(&company_twice("to_hubspot", None)).unwrap();
}

#[test]
fn one_app_column_is_fine_when_only_one_of_its_fields_writes_the_app() {
    parse(&company_twice("both", Some("to_hubspot"))).unwrap();
}
