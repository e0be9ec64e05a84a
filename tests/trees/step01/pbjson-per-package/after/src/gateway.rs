pub use crate::connect::gateway::*;
include!(concat!(env!("OUT_DIR"), "/gateway/gateway.rs"));

// Prost-style accessors kept by connect-migrate (step 1) so that existing call sites
// compile on buffa messages. Inline them where they are called, then delete them.
impl TxInfo {
    pub fn band(&self) -> crate::connect::common::Band { self.band.as_known().unwrap_or_default() }
}

use crate::common::{Band, Modulation};

impl Frame {
    /// Moves the legacy transmit info into the current one.
    pub fn migrate(&mut self) {
        if let Some(legacy) = self.legacy.as_option() {
            self.tx = TxInfo {
                frequency: legacy.frequency,
                modulation: Modulation {
                    parameters: legacy.modulation_info.as_ref().map(|m| match m {
                        legacy_tx::ModulationInfo::LoraInfo(info) => {
                            crate::common::modulation::Parameters::Lora(info.clone())
                        }
                        legacy_tx::ModulationInfo::FskInfo(info) => {
                            crate::common::modulation::Parameters::Fsk(info.clone())
                        }
                    }),
                    ..Default::default()
                }.into(),
                band: Band::Eu868.into(),
                ..Default::default()
            }.into();
            self.legacy = Default::default();
        }
    }
}

/// The band of a frame's transmission, through prost's getter.
pub fn band_of(frame: &Frame) -> Band {
    frame.tx.as_option().map(|t| t.band()).unwrap_or_default()
}
