//! The protobuf wire format, as much as reading ONNX files needs: a bounds-checked field
//! iterator over a message's bytes, and (for tests that write small ONNX files) a writer.
//! No schema: the caller matches field numbers.

/// Why bytes are not a protobuf message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WireError {
    /// The bytes end inside a field.
    #[error("truncated at byte {0}")]
    Truncated(usize),
    /// A varint longer than ten bytes.
    #[error("malformed varint at byte {0}")]
    Varint(usize),
    /// Wire types 3 and 4 (groups) or 6 and 7.
    #[error("unsupported wire type {wire_type} at byte {at}")]
    WireType {
        /// The wire type.
        wire_type: u8,
        /// Where.
        at: usize,
    },
    /// Field number 0.
    #[error("field number 0 at byte {0}")]
    FieldZero(usize),
}

/// One field's value, as the wire carries it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: a string, bytes, a message or a packed repeated field.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

impl<'a> Value<'a> {
    /// The bytes of a length-delimited field.
    pub fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// A varint field's value as a signed 64-bit integer (two's complement, as int64 is sent).
    pub fn int(self) -> Option<i64> {
        match self {
            Value::Varint(v) => Some(v as i64),
            _ => None,
        }
    }

    /// A fixed32 field as an f32.
    pub fn float(self) -> Option<f32> {
        match self {
            Value::Fixed32(v) => Some(f32::from_bits(v)),
            _ => None,
        }
    }

    /// The integers of a repeated varint field: packed (`Bytes`) or one unpacked element.
    pub fn ints(self) -> Result<Vec<i64>, WireError> {
        match self {
            Value::Varint(v) => Ok(vec![v as i64]),
            Value::Bytes(b) => {
                let mut out = Vec::new();
                let mut at = 0;
                while at < b.len() {
                    out.push(read_varint(b, &mut at)? as i64);
                }
                Ok(out)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// The floats of a repeated float field: packed (`Bytes`) or one unpacked element.
    pub fn floats(self) -> Result<Vec<f32>, WireError> {
        match self {
            Value::Fixed32(v) => Ok(vec![f32::from_bits(v)]),
            Value::Bytes(b) => {
                if b.len() % 4 != 0 {
                    return Err(WireError::Truncated(b.len()));
                }
                Ok(b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect())
            }
            _ => Ok(Vec::new()),
        }
    }
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Result<u64, WireError> {
    let start = *at;
    let mut value = 0u64;
    for shift in 0..10 {
        let Some(&byte) = bytes.get(*at) else {
            return Err(WireError::Truncated(*at));
        };
        *at += 1;
        value |= u64::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError::Varint(start))
}

/// The fields of one message, in order: `(field number, value)`.
pub struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
    failed: bool,
}

/// Iterate over the fields of the message in `bytes`.
pub fn fields(bytes: &[u8]) -> Fields<'_> {
    Fields {
        bytes,
        at: 0,
        failed: false,
    }
}

impl<'a> Fields<'a> {
    fn next_field(&mut self) -> Result<(u32, Value<'a>), WireError> {
        let start = self.at;
        let key = read_varint(self.bytes, &mut self.at)?;
        let number = key >> 3;
        if number == 0 {
            return Err(WireError::FieldZero(start));
        }
        let number = u32::try_from(number).map_err(|_| WireError::Varint(start))?;
        let take = |this: &mut Self, n: usize| -> Result<&'a [u8], WireError> {
            let end = this
                .at
                .checked_add(n)
                .filter(|&end| end <= this.bytes.len())
                .ok_or(WireError::Truncated(this.bytes.len()))?;
            let slice = &this.bytes[this.at..end];
            this.at = end;
            Ok(slice)
        };
        let value = match key & 7 {
            0 => Value::Varint(read_varint(self.bytes, &mut self.at)?),
            1 => Value::Fixed64(u64::from_le_bytes(take(self, 8)?.try_into().unwrap())),
            2 => {
                let len = read_varint(self.bytes, &mut self.at)?;
                let len = usize::try_from(len).map_err(|_| WireError::Truncated(self.at))?;
                Value::Bytes(take(self, len)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(take(self, 4)?.try_into().unwrap())),
            other => {
                return Err(WireError::WireType {
                    wire_type: other as u8,
                    at: start,
                });
            }
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.bytes.len() {
            return None;
        }
        let field = self.next_field();
        self.failed = field.is_err();
        Some(field)
    }
}

/// Writes a message field by field (tests build small ONNX files with it).
#[derive(Debug, Default, Clone)]
pub struct Writer {
    /// The message so far.
    pub bytes: Vec<u8>,
}

impl Writer {
    fn varint(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.bytes.push(byte);
                return;
            }
            self.bytes.push(byte | 0x80);
        }
    }

    fn key(&mut self, number: u32, wire_type: u8) {
        self.varint(u64::from(number) << 3 | u64::from(wire_type));
    }

    /// A varint field (int32, int64, enum).
    pub fn int(mut self, number: u32, v: i64) -> Self {
        self.key(number, 0);
        self.varint(v as u64);
        self
    }

    /// A float field.
    pub fn float(mut self, number: u32, v: f32) -> Self {
        self.key(number, 5);
        self.bytes.extend_from_slice(&v.to_bits().to_le_bytes());
        self
    }

    /// A bytes, string or message field.
    pub fn bytes(mut self, number: u32, b: &[u8]) -> Self {
        self.key(number, 2);
        self.varint(b.len() as u64);
        self.bytes.extend_from_slice(b);
        self
    }

    /// A string field.
    pub fn string(self, number: u32, s: &str) -> Self {
        self.bytes(number, s.as_bytes())
    }

    /// A message field.
    pub fn message(self, number: u32, m: Writer) -> Self {
        self.bytes(number, &m.bytes)
    }

    /// A packed repeated varint field.
    pub fn packed_ints(self, number: u32, values: &[i64]) -> Self {
        let mut inner = Writer::default();
        for &v in values {
            inner.varint(v as u64);
        }
        self.bytes(number, &inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_through_the_writer() {
        let inner = Writer::default().string(1, "conv").int(2, -3);
        let msg = Writer::default()
            .int(1, 300)
            .float(2, 1.5)
            .message(3, inner)
            .packed_ints(4, &[1, 2, 100_000]);
        let got: Vec<_> = fields(&msg.bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(got[0], (1, Value::Varint(300)));
        assert_eq!(got[1].1.float(), Some(1.5));
        let nested: Vec<_> = fields(got[2].1.bytes().unwrap())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(nested[0].1.bytes(), Some(b"conv".as_slice()));
        assert_eq!(nested[1].1.int(), Some(-3));
        assert_eq!(got[3].1.ints().unwrap(), vec![1, 2, 100_000]);
    }

    #[test]
    fn truncated_and_malformed_bytes_are_errors_not_panics() {
        let msg = Writer::default().string(1, "hello world").bytes;
        for cut in 1..msg.len() {
            let r: Result<Vec<_>, _> = fields(&msg[..cut]).collect();
            assert!(r.is_err(), "cut at {cut} parsed");
        }
        // A length that points far past the end.
        let huge = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];
        assert!(fields(&huge).collect::<Result<Vec<_>, _>>().is_err());
        // A varint of more than ten bytes.
        let mut endless = vec![0x08];
        endless.extend([0xff; 10]);
        assert_eq!(fields(&endless).next().unwrap(), Err(WireError::Varint(1)));
        // Groups are refused.
        assert!(matches!(
            fields(&[0x0b]).next().unwrap(),
            Err(WireError::WireType { wire_type: 3, .. })
        ));
    }
}
