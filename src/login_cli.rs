//! `ccdesk login` / `ccdesk logout` for agents and supervisors, and
//! `ccdesk user add|passwd|remove` for an administrator on the server
//! machine. A login's token is kept in the user's state directory
//! (`login.json`, readable by its owner only); `ccdesk agent` and
//! `ccdesk supervise` use it when no token is given, and renew it while
//! they run.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::server::config::{Role, ServerConfig, User};
use crate::server::records::RecordStore;

/// A login kept between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredLogin {
    pub server: String,
    pub user: String,
    pub token: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Where the kept login lives: the state directory (the log's folder).
pub fn stored_path() -> Option<PathBuf> {
    crate::app::config::log_dir().map(|d| d.join("login.json"))
}

impl StoredLogin {
    pub fn load(path: &Path) -> Option<StoredLogin> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Write it, readable by its owner only, replacing the file in one step.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let tmp = path.with_extension("json.new");
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts
                .open(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            f.write_all(serde_json::to_string(self)?.as_bytes())?;
        }
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// A password: the next line of stdin with `from_stdin`, else asked on the
/// terminal without echo.
pub fn read_password(prompt: &str, from_stdin: bool) -> anyhow::Result<String> {
    let p = if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        rpassword::prompt_password(prompt).context("cannot read the password from the terminal")?
    };
    if p.is_empty() {
        anyhow::bail!("no password given");
    }
    Ok(p)
}

/// `ccdesk login`: log in with the password, keep the token.
pub async fn login(
    server: &str,
    user: &str,
    ca: Option<&Path>,
    password: String,
    into: &Path,
) -> anyhow::Result<StoredLogin> {
    let c = crate::client::Connection::connect_with_ca(server, ca).await?;
    let v = c
        .call(
            "login",
            serde_json::json!({"userId": user, "password": password}),
        )
        .await?
        .context("the server answered the login without a result")?;
    let token = v["token"]
        .as_str()
        .context("the server answered without a token (it may not take passwords)")?
        .to_string();
    let expires_at = v["tokenExpiresAt"].as_u64().unwrap_or(0);
    c.close();
    let kept = StoredLogin {
        server: server.to_string(),
        user: user.to_string(),
        token,
        expires_at,
    };
    kept.save(into)?;
    Ok(kept)
}

/// The server's users as its database keeps them, seeded from the config
/// when the server has never started.
fn users_db(cfg: &ServerConfig) -> anyhow::Result<(Box<dyn RecordStore>, Vec<User>)> {
    let mut db = crate::server::records::open_records(cfg)?;
    let users = crate::server::users::load_or_seed(db.as_mut(), cfg);
    Ok((db, users))
}

/// `ccdesk user add`.
pub fn user_add(
    cfg: &ServerConfig,
    id: &str,
    role: Role,
    groups: Vec<String>,
    name: Option<String>,
    password: Option<String>,
) -> anyhow::Result<()> {
    let (mut db, users) = users_db(cfg)?;
    if users.iter().any(|u| u.id == id) {
        anyhow::bail!("user `{id}` exists already");
    }
    for g in &groups {
        if cfg.skill_group(g).is_none() {
            anyhow::bail!("skill group `{g}` is not in the config");
        }
    }
    let u = User {
        id: id.to_string(),
        role,
        skill_groups: groups,
        name,
        seat_type: Default::default(),
        sip_password: None,
        mobile: None,
        password_hash: password
            .map(|p| crate::server::passwords::hash(&p))
            .transpose()?,
        max_chats: crate::server::config::DEFAULT_MAX_CHATS,
    };
    db.save_user(&u)
}

/// `ccdesk user passwd`.
pub fn user_passwd(cfg: &ServerConfig, id: &str, password: &str) -> anyhow::Result<()> {
    let (mut db, users) = users_db(cfg)?;
    if !users.iter().any(|u| u.id == id) {
        anyhow::bail!("user `{id}` is not a user of the server");
    }
    db.set_password(id, &crate::server::passwords::hash(password)?)
}

/// `ccdesk user remove`.
pub fn user_remove(cfg: &ServerConfig, id: &str) -> anyhow::Result<()> {
    let (mut db, users) = users_db(cfg)?;
    if !users.iter().any(|u| u.id == id) {
        anyhow::bail!("user `{id}` is not a user of the server");
    }
    db.remove_user(id)
}
