tonic::include_proto!("gateway/gateway");
#[cfg(feature = "json")]
include!(concat!(env!("OUT_DIR"), "/gateway/gateway.serde.rs"));

use crate::common::{Band, Modulation};

impl Frame {
    /// Moves the legacy transmit info into the current one.
    pub fn migrate(&mut self) {
        if let Some(legacy) = &self.legacy {
            self.tx = Some(TxInfo {
                frequency: legacy.frequency,
                modulation: Some(Modulation {
                    parameters: legacy.modulation_info.as_ref().map(|m| match m {
                        legacy_tx::ModulationInfo::LoraInfo(info) => {
                            crate::common::modulation::Parameters::Lora(*info)
                        }
                        legacy_tx::ModulationInfo::FskInfo(info) => {
                            crate::common::modulation::Parameters::Fsk(*info)
                        }
                    }),
                }),
                band: Band::Eu868 as i32,
            });
            self.legacy = None;
        }
    }
}

/// The band of a frame's transmission, through prost's getter.
pub fn band_of(frame: &Frame) -> Band {
    frame.tx.as_ref().map(|t| t.band()).unwrap_or_default()
}
