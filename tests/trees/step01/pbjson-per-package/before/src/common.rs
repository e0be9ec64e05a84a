include!(concat!(env!("OUT_DIR"), "/common/common.rs"));
#[cfg(feature = "json")]
include!(concat!(env!("OUT_DIR"), "/common/common.serde.rs"));

impl Modulation {
    /// The LoRa parameters, when the modulation is LoRa.
    pub fn lora(&self) -> Option<&Lora> {
        match &self.parameters {
            Some(modulation::Parameters::Lora(l)) => Some(l),
            _ => None,
        }
    }
}
