pub use crate::connect::common::*;

impl Modulation {
    /// The LoRa parameters, when the modulation is LoRa.
    pub fn lora(&self) -> Option<&Lora> {
        match &self.parameters {
            Some(modulation::Parameters::Lora(l)) => Some(l),
            _ => None,
        }
    }
}
