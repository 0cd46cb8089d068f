//! Feature maps, channels last, and the pool their buffers come from (so a frame allocates
//! nothing once the first one has run).

use std::sync::Mutex;

use burn::tensor::{Device, Tensor, TensorData};

/// A feature map of one image, channels last: `data[(y * width + x) * channels + c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    /// The values.
    pub data: Vec<f32>,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Values per pixel.
    pub channels: usize,
}

impl Map {
    /// The values of pixel `(x, y)`.
    pub fn pixel(&self, x: usize, y: usize) -> &[f32] {
        let start = (y * self.width + x) * self.channels;
        &self.data[start..start + self.channels]
    }

    /// Values in one row of pixels.
    pub fn row_len(&self) -> usize {
        self.width * self.channels
    }

    /// As a planar `[1, channels, height, width]` tensor on `device` (burn's layout).
    pub fn to_tensor(&self, device: &Device) -> Tensor<4> {
        let (n, c) = (self.width * self.height, self.channels);
        let mut planar = vec![0.0; c * n];
        for (i, pixel) in self.data.chunks_exact(c).enumerate() {
            for (ch, v) in pixel.iter().enumerate() {
                planar[ch * n + i] = *v;
            }
        }
        Tensor::from_data(
            TensorData::new(planar, [1, c, self.height, self.width]),
            device,
        )
    }

    /// The first image of a planar `[n, channels, height, width]` tensor.
    pub fn from_tensor(tensor: Tensor<4>) -> Self {
        let [_, c, h, w] = tensor.dims();
        let planar = super::values(tensor);
        let n = w * h;
        let mut data = vec![0.0; c * n];
        for (i, pixel) in data.chunks_exact_mut(c).enumerate() {
            for (ch, v) in pixel.iter_mut().enumerate() {
                *v = planar[ch * n + i];
            }
        }
        Self {
            data,
            width: w,
            height: h,
            channels: c,
        }
    }

    /// The largest absolute difference between two maps' values (for tests).
    #[cfg(test)]
    pub(crate) fn max_difference(&self, other: &Map) -> f32 {
        assert_eq!(self.data.len(), other.data.len(), "map sizes differ");
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }
}

/// Buffers handed back by finished maps, reused by the next ones.
#[derive(Debug, Default)]
pub struct Pool {
    free: Mutex<Vec<Vec<f32>>>,
}

impl Pool {
    /// A `width`×`height`×`channels` map on a recycled buffer when one is large enough. Its
    /// values are unspecified (left over from earlier maps): for operations that write every
    /// value.
    pub fn map(&self, width: usize, height: usize, channels: usize) -> Map {
        let len = width * height * channels;
        let mut data = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            // The smallest buffer that fits, so large ones stay for large maps.
            let best = free
                .iter()
                .enumerate()
                .filter(|(_, b)| b.capacity() >= len)
                .min_by_key(|(_, b)| b.capacity())
                .map(|(i, _)| i);
            best.map(|i| free.swap_remove(i)).unwrap_or_default()
        };
        // Frames of one stream have the same sizes, so this is usually a no-op.
        data.truncate(len);
        data.resize(len, 0.0);
        Map {
            data,
            width,
            height,
            channels,
        }
    }

    /// Give a map's buffer back.
    pub fn recycle(&self, map: Map) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.push(map.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_round_trip_is_exact_and_planar() {
        let map = Map {
            data: (0..2 * 3 * 4).map(|i| i as f32).collect(),
            width: 3,
            height: 2,
            channels: 4,
        };
        let tensor = map.to_tensor(&Device::flex());
        assert_eq!(tensor.dims(), [1, 4, 2, 3]);
        // Channel 1 of pixel (2, 1) (index 5) sits at plane 1, position 5.
        let planar: Vec<f32> = tensor.clone().into_data().try_to_vec().unwrap();
        assert_eq!(planar[6 + 5], map.pixel(2, 1)[1]);
        assert_eq!(Map::from_tensor(tensor), map);
    }

    #[test]
    fn recycled_buffers_come_back_sized() {
        let pool = Pool::default();
        let mut a = pool.map(4, 3, 2);
        a.data.fill(7.0);
        let capacity = a.data.capacity();
        pool.recycle(a);
        let b = pool.map(2, 2, 2);
        assert_eq!(b.data.len(), 8);
        assert_eq!(b.data.capacity(), capacity, "the buffer was reused");
        assert_eq!(b.pixel(1, 1).len(), 2);
    }
}
