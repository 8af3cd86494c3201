//! Closing a location's business day (manager): the drawers are counted and the day's Z
//! report is final. Nothing is refused afterwards: a sale, void or refund that arrives
//! later for that day (an offline till coming back) still counts on its own day, and the
//! day's report lists it as an amendment with the time it arrived (docs/cash.md). A day
//! does not close while a drawer session of the location opened on or before it is still
//! open (409 `drawer_sessions_open`): its cash is not counted yet.

use axum::extract::Path;
use chrono::{DateTime, NaiveDate, Utc};
use events::event::BusinessDayClosed;
use events::{AggregateRef, DomainEvent, DrawerSessionId, LocationId};
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};
use tenantdb::docs::DrawerSessionDoc;
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::codes::ErrorCode;
use crate::commands::cash::still_open;
use crate::commands::command::AggregateId;
use crate::commands::locations::{LocationState, invalidate};
use crate::commands::{Command, CommandMeta, Decision, PathId, Route, Target, fields};
use crate::error::ApiError;
use crate::queries::date::date;
use crate::state::AppState;

/// A location and one of its business days, from the path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationDay {
    /// The location.
    pub location: LocationId,
    /// The business day.
    pub date: NaiveDate,
}

impl Target for LocationDay {
    type Raw = Path<(String, String)>;
    const PATH_PARAMS: &'static [&'static str] = &["location_id", "date"];
    const IF_MATCH: bool = false;

    fn parse(Path((location, day)): Self::Raw) -> Result<Self, ApiError> {
        Ok(Self {
            location: LocationId::from_path(location)?,
            date: date("date", &day)?,
        })
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        (&self.location, self.date, body)
    }
}

impl AggregateId for LocationDay {
    fn natural_key(&self) -> String {
        format!("day-close:{}:{}", self.location, self.date)
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::location(&self.location)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        day_closed(self)
    }
}

fn day_closed(day: &LocationDay) -> ApiError {
    ApiError::StateConflict {
        code: ErrorCode::DayClosed,
        message: format!(
            "business day {} of location {} was already closed",
            day.date, day.location
        ),
    }
}

/// `POST /v1/locations/{location_id}/days/{date}/close`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBusinessDay {
    /// Free text.
    #[serde(default)]
    pub note: Option<String>,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for CloseBusinessDay {
    const NAME: &'static str = "CloseBusinessDay";
    const ROUTE: Route = Route::post(
        "/v1/locations/{location_id}/days/{date}/close",
        "close_business_day",
        "locations",
        "Close a business day of a location (manager); later arrivals become amendments.",
    );
    type Role = Manager;
    type Target = LocationDay;
    type Id = LocationDay;
    type State = LocationState;
    type Loaded = Vec<DrawerSessionId>;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, day: &LocationDay, _: Option<&str>) -> Result<LocationDay, ApiError> {
        Ok(day.clone())
    }

    /// The location's drawer sessions opened on or before the day and still open.
    async fn load(
        &self,
        app: &AppState,
        day: &LocationDay,
        meta: &CommandMeta,
    ) -> Result<Vec<DrawerSessionId>, ApiError> {
        let date = day.date.format("%Y-%m-%d").to_string();
        let filter = bson::doc! {
            (DrawerSessionDoc::LOCATION): day.location.as_str(),
            (DrawerSessionDoc::BUSINESS_DATE): {"$lte": date},
        };
        still_open(app, meta, filter, None).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        let closed = close_day(on.id, self, on.context, on.state, on.now)?;
        if !on.loaded.is_empty() {
            let open: Vec<&str> = on.loaded.iter().map(DrawerSessionId::as_str).collect();
            return Err(ApiError::StateConflict {
                code: ErrorCode::DrawerSessionsOpen,
                message: format!(
                    "drawer sessions {} of {} are still open; close them first (a manager may close anyone's)",
                    open.join(", "),
                    on.id.location
                ),
            });
        }
        Ok(closed.into())
    }

    async fn recorded(&self, app: &AppState, day: &LocationDay, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, &day.location).await;
        Ok(())
    }
}

/// Checks a day close and builds its event: the location exists, the day has begun
/// there and was not closed yet.
pub fn close_day(
    day: &LocationDay,
    command: &CloseBusinessDay,
    context: &TenantContext,
    state: &LocationState,
    now: DateTime<Utc>,
) -> Result<BusinessDayClosed, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::optional_text("note", command.note.as_deref())?;
    let Some(details) = &state.details else {
        return Err(ApiError::NotFound {
            resource: "location",
            id: day.location.to_string(),
        });
    };
    let today = LocationState::business_date(details, command.occurred_at.unwrap_or(now));
    if day.date > today {
        return Err(ApiError::invalid(
            "date",
            format!(
                "business day {} has not begun at {} (it is {today})",
                day.date, day.location
            ),
        ));
    }
    if state.closed_days.contains(&day.date) {
        return Err(day_closed(day));
    }
    Ok(BusinessDayClosed {
        location_id: day.location.clone(),
        business_date: day.date,
        note: command.note.clone(),
    })
}
