//! What a product is sold in, for deposits and per-container taxes.

use serde::{Deserialize, Serialize};

use crate::tax::slug::ContainerType;

/// The container one sold item comes in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Container {
    /// Can, glass bottle, keg, ...: picks the deposit rule and per-container taxes.
    pub container_type: ContainerType,
    /// Volume of one container, millilitres (> 0): picks the deposit by size and is the
    /// base of per-litre taxes.
    pub volume_ml: u32,
    /// Containers in one sold item (> 0): 1 for a bottle, 6 for a six-pack of cans, 24 for
    /// a case. Deposits and per-unit taxes are charged per container.
    pub units: u32,
}

impl Container {
    /// One container per sold item.
    pub fn single(container_type: ContainerType, volume_ml: u32) -> Self {
        Self {
            container_type,
            volume_ml,
            units: 1,
        }
    }
}
