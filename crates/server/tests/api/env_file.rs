//! Which environment file the binary reads: `./.env` or the one `ENV_FILE` names, never one in a
//! parent directory; and what it says about configuration it refuses.

use crate::helpers::binary::{empty_dir, env_with, run_in, run_with};

/// The start of the line a server prints when it got past its configuration: it then tries the
/// database, which the tests' configuration places where nothing answers.
const PAST_CONFIGURATION: &str = "wxlogin-server: cannot connect to the database";

#[test]
fn a_dot_env_in_a_parent_directory_is_not_read() {
    let parent = empty_dir();
    std::fs::write(
        parent.join(".env"),
        "WECHAT_APPID=wx-planted\nWECHAT_API_BASE=http://127.0.0.1:9/planted\n",
    )
    .unwrap();
    let working = parent.join("a").join("b");
    std::fs::create_dir_all(&working).unwrap();

    let (exit_code, stderr) = run_in(&working, &env_with("WECHAT_APPID", None));

    assert_eq!(exit_code, Some(1));
    assert_eq!(
        stderr.trim(),
        "wxlogin-server: configuration error: WECHAT_APPID is required but not set"
    );
}

#[test]
fn the_dot_env_of_the_working_directory_or_env_file_is_read() {
    let working = empty_dir();
    std::fs::write(working.join(".env"), "WECHAT_APPID=wx-from-dot-env\n").unwrap();
    let (_, stderr) = run_in(&working, &env_with("WECHAT_APPID", None));
    assert!(stderr.starts_with(PAST_CONFIGURATION), "{stderr}");

    let elsewhere = empty_dir().join("wxlogin.env");
    std::fs::write(&elsewhere, "WECHAT_APPID=wx-from-env-file\n").unwrap();
    let mut env = env_with("WECHAT_APPID", None);
    env.push(("ENV_FILE", elsewhere.display().to_string()));
    let (_, stderr) = run_with(&env);
    assert!(stderr.starts_with(PAST_CONFIGURATION), "{stderr}");

    let mut env = env_with("WECHAT_APPID", Some("wx123"));
    env.push(("ENV_FILE", "/nonexistent/secret-path/wxlogin.env".into()));
    let (exit_code, stderr) = run_with(&env);
    assert_eq!(exit_code, Some(1));
    assert!(
        stderr.starts_with(
            "wxlogin-server: configuration error: ENV_FILE names a file that cannot be read"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("secret-path"), "{stderr}");
}

#[test]
fn refused_configuration_names_the_variable_and_never_its_value() {
    let password = "hunter2-in-the-url";
    let weak = "a".repeat(32);
    let cases: Vec<(&'static str, String)> = vec![
        (
            "WECHAT_API_BASE",
            format!("ftp://admin:{password}@example.com"),
        ),
        ("JWT_SECRET", weak.clone()),
        (
            "JWT_SECRET",
            "replace-with-at-least-32-random-bytes-xxxxxxxxxxxx".into(),
        ),
        ("SESSION_KEY_SECRET", weak.clone()),
        ("REFRESH_TOKEN_TTL", u64::MAX.to_string()),
        ("ACCESS_TOKEN_TTL", i64::MAX.to_string()),
    ];
    for (variable, value) in cases {
        let (exit_code, stderr) = run_with(&env_with(variable, Some(&value)));
        assert_eq!(exit_code, Some(1), "{variable}={value:?} must not start");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
        assert!(
            stderr.starts_with(&format!("wxlogin-server: configuration error: {variable} ")),
            "{stderr}"
        );
        assert!(
            !stderr.contains(&value) && !stderr.contains(password),
            "{stderr}"
        );
    }
}
