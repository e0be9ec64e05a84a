pub use crate::connect::gateway::*;
include!(concat!(env!("OUT_DIR"), "/gateway/gateway.rs"));

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
