//! Result encoding: tables as JSON (`{"columns":[...],"rows":[...]}`), CSV
//! and a text table. (Owned by the values work.)
