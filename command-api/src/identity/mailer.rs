//! Sending mail: through SMTP when `SMTP_URL` is configured, else into the development
//! outbox (collection `outbox` of the shared database), where developers and tests read
//! verification links.

use bson::doc;
use chrono::Utc;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mongodb::Database;

use crate::error::ApiError;

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// A real SMTP relay.
    Smtp {
        /// The transport.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// Sender address.
        from: Mailbox,
    },
    /// The development outbox collection.
    Outbox(Database),
}

impl Mailer {
    /// SMTP if `smtp_url` is set (`smtp://relay.internal:25`: a relay on a trusted
    /// network; this build speaks plain SMTP, TLS belongs to the relay), else the outbox
    /// of `main`.
    pub fn new(smtp_url: Option<&str>, from: &str, main: Database) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let rest = url
                    .strip_prefix("smtp://")
                    .ok_or_else(|| anyhow::anyhow!("SMTP_URL must start with smtp://"))?;
                let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
                    Some((host, port)) => (
                        host,
                        port.parse::<u16>().map_err(|_| anyhow::anyhow!("SMTP_URL: bad port"))?,
                    ),
                    None => (rest.trim_end_matches('/'), 25),
                };
                Ok(Mailer::Smtp {
                    transport: AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                        .port(port)
                        .build(),
                    from: from.parse().map_err(|e| anyhow::anyhow!("MAIL_FROM: {e}"))?,
                })
            }
            None => Ok(Mailer::Outbox(main)),
        }
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), ApiError> {
        match self {
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = to
                    .parse()
                    .map_err(|_| ApiError::invalid("email", "cannot receive mail"))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .body(body.to_owned())
                    .map_err(|e| ApiError::Internal(anyhow::anyhow!("building a message: {e}")))?;
                transport
                    .send(message)
                    .await
                    .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e).context("sending mail over SMTP")))?;
            }
            Mailer::Outbox(db) => {
                db.collection::<bson::Document>("outbox")
                    .insert_one(doc! {"to": to, "subject": subject, "body": body, "sent_at": bson::DateTime::from_chrono(Utc::now())})
                    .await?;
            }
        }
        Ok(())
    }
}
