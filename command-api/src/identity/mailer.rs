//! Sending mail: through SMTP when `SMTP_URL` is configured, else into the development
//! outbox (collection `outbox` of the shared database), where developers and tests read
//! verification links.
//!
//! SMTP goes through lettre's transports, configured by its URL scheme: `smtps://` (TLS
//! from the first byte, port 465) or `smtp://...?tls=required` (STARTTLS, and the send
//! fails if the server does not offer it), with credentials from the URL's user and
//! password. Certificates are checked against the Mozilla roots (webpki-roots). Plain
//! `smtp://` (and `tls=opportunistic`, which a man in the middle can downgrade) is refused
//! at startup unless the host is loopback (a local mail catcher) or
//! `SMTP_ALLOW_PLAINTEXT` is set.

use bson::doc;
use chrono::Utc;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mongodb::Database;

use crate::error::ApiError;

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP server.
    Smtp {
        /// The transport (boxed: it is large, and the outbox variant is small).
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// Sender address.
        from: Mailbox,
    },
    /// The development outbox collection.
    Outbox(Database),
}

/// Whether mail to `url` would travel unencrypted, and the URL's host.
fn plaintext_and_host(url: &str) -> anyhow::Result<(bool, &str)> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("SMTP_URL must start with smtps:// or smtp://"))?;
    let (authority, query) = match rest.split_once('?') {
        Some((authority, query)) => (authority, query),
        None => (rest, ""),
    };
    let authority = authority.split('/').next().unwrap_or(authority);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or(bracketed)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    let tls_required = query.split('&').any(|pair| pair == "tls=required");
    match scheme {
        "smtps" => Ok((false, host)),
        "smtp" => Ok((!tls_required, host)),
        other => anyhow::bail!("SMTP_URL: unknown scheme {other}; use smtps:// or smtp://"),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Mailer {
    /// SMTP if `smtp_url` is set, else the outbox of `main`. A URL that would send mail
    /// unencrypted to a host that is not loopback is refused unless `allow_plaintext`.
    pub fn new(smtp_url: Option<&str>, allow_plaintext: bool, from: &str, main: Database) -> anyhow::Result<Self> {
        let Some(url) = smtp_url else {
            return Ok(Mailer::Outbox(main));
        };
        let (plaintext, host) = plaintext_and_host(url)?;
        if plaintext && !allow_plaintext && !is_loopback(host) {
            anyhow::bail!(
                "SMTP_URL would send mail and credentials to {host} unencrypted: use smtps://, or smtp://...?tls=required, \
                 or set SMTP_ALLOW_PLAINTEXT"
            );
        }
        let transport = Box::new(
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
                .build(),
        );
        Ok(Mailer::Smtp {
            transport,
            from: from.parse().map_err(|e| anyhow::anyhow!("MAIL_FROM: {e}"))?,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unencrypted_smtp_is_only_for_loopback_unless_allowed() {
        fn plain(url: &str) -> (bool, &str) {
            plaintext_and_host(url).expect("a valid url")
        }
        assert_eq!(plain("smtps://u:p@mail.example.com:465"), (false, "mail.example.com"));
        assert_eq!(
            plain("smtp://u:p%40x@mail.example.com:587?tls=required"),
            (false, "mail.example.com")
        );
        assert_eq!(plain("smtp://mail.example.com:25"), (true, "mail.example.com"));
        assert_eq!(
            plain("smtp://mail.example.com:587?tls=opportunistic"),
            (true, "mail.example.com")
        );
        assert_eq!(plain("smtp://[::1]:1025"), (true, "::1"));
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("LOCALHOST"));
        assert!(!is_loopback("mail.example.com"));
        assert!(plaintext_and_host("http://x").is_err());
    }
}
