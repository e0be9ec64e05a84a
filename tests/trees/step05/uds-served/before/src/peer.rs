pub struct Ledger;
