//! `sp4n token create|list|revoke`: API tokens. A new token is printed once; the store
//! keeps only its SHA-256 ([`crate::server::auth::hash_token`]).

use super::{CliError, Ctx, EXIT_CONFIG};
use crate::model::format_wib_short;
use crate::server::auth::{Role, hash_token, new_api_token};
use crate::store::ApiToken;

#[derive(Debug, clap::Subcommand)]
pub enum TokenCmd {
    /// Make a new API token and print it once.
    #[command(
        after_help = "Examples:\n  sp4n token create --role admin --name bagian-organisasi\n  sp4n token create --role opd:DINKES --name dinkes-admin\n  sp4n token create --role viewer --name koordinator-nasional"
    )]
    Create {
        /// admin, viewer, or opd:CODE (a code from mappings/opd.toml).
        #[arg(long)]
        role: String,
        /// A name to recognise and revoke the token by.
        #[arg(long)]
        name: String,
    },
    /// List tokens: names, roles, when created (never the tokens).
    List,
    /// Revoke a token by name; it stops working at once.
    Revoke { name: String },
}

pub async fn run(ctx: &Ctx, cmd: TokenCmd) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    match cmd {
        TokenCmd::Create { role, name } => {
            let mappings = crate::app::context::active_mappings(&cfg, &store)
                .await?
                .mappings;
            let codes: Vec<&str> = mappings.opds().iter().map(|o| o.code.as_str()).collect();
            let role = Role::parse_for_new_token(&role, &codes)
                .map_err(|e| CliError::new(EXIT_CONFIG, e.to_string()))?;
            let name = name.trim().to_string();
            if name.is_empty() {
                return Err(CliError::new(
                    EXIT_CONFIG,
                    "give the token a name with --name",
                ));
            }
            let secret = new_api_token().map_err(|e| {
                CliError::new(EXIT_CONFIG, format!("cannot read random bytes: {e}"))
            })?;
            let token = ApiToken {
                name: name.clone(),
                role: role.to_string(),
                hash: hash_token(&secret),
                created: chrono::Utc::now(),
            };
            store
                .run(move |s| s.create_token(&token))
                .await
                .map_err(|e| match e {
                    // A duplicate name is the caller's input, not a store fault.
                    crate::store::StoreError::Refused(m) => CliError::new(EXIT_CONFIG, m),
                    other => CliError::from(other),
                })?;
            if ctx.json {
                ctx.print_json(&serde_json::json!({
                    "name": name, "role": role.to_string(), "token": secret
                }))?;
            } else {
                println!("{secret}");
                eprintln!(
                    "Token '{name}' ({role}) created. It is shown only this once: give it to its holder now."
                );
            }
            Ok(0)
        }
        TokenCmd::List => {
            let tokens = store.run(|s| s.list_tokens()).await?;
            if ctx.json {
                let v: Vec<_> = tokens
                    .iter()
                    .map(|t| serde_json::json!({"name": t.name, "role": t.role, "created": t.created}))
                    .collect();
                ctx.print_json(&v)?;
            } else if tokens.is_empty() {
                println!(
                    "No API tokens. Make one with `sp4n token create --role ROLE --name NAME`."
                );
            } else {
                for t in &tokens {
                    println!(
                        "{}  {}  created {}",
                        t.name,
                        t.role,
                        format_wib_short(t.created)
                    );
                }
            }
            Ok(0)
        }
        TokenCmd::Revoke { name } => {
            let n = name.clone();
            if store.run(move |s| s.revoke_token(&n)).await? {
                println!("Token '{name}' revoked.");
                Ok(0)
            } else {
                Err(CliError::new(
                    EXIT_CONFIG,
                    format!("no token is named '{name}': see `sp4n token list`"),
                ))
            }
        }
    }
}
