//! The library's choice types as command-line values: clap knows about them only here. Names
//! come from the types' own `name()`, so flags, model files and the element agree.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::device::DeviceChoice;
use crate::model::Arch;
use crate::train::losses::GanLoss;

impl ValueEnum for Arch {
    fn value_variants<'a>() -> &'a [Self] {
        &Arch::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Arch::Johnson => {
                "Johnson et al. 2016: 9x9 end convolutions, 128-channel residual blocks at 1/4 size"
            }
            Arch::Fast => {
                "real-time: 1/8-size bottleneck, depthwise-separable residual blocks (~1.3 GMAC at 640x480)"
            }
            Arch::Magenta => {
                "Magenta's arbitrary-style transformer (Ghiasi et al. 2017): 32-channel residual blocks at 1/4 size (3.85 GMAC at 640x480); start it from `ganstyle import`"
            }
            Arch::MagentaLite => {
                "Magenta's layout made cheap: separable residual blocks at 1/4 size, 3x3 ends (~1.2 GMAC at 640x480)"
            }
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

impl ValueEnum for GanLoss {
    fn value_variants<'a>() -> &'a [Self] {
        &[GanLoss::Lsgan, GanLoss::Hinge]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            GanLoss::Lsgan => "least-squares GAN (Mao et al.): targets 1 for real, 0 for fake",
            GanLoss::Hinge => "hinge loss (as in SN-GAN / BigGAN)",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

impl ValueEnum for DeviceChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &[DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Gpu]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            DeviceChoice::Auto => "a real GPU when wgpu finds one, else the CPU",
            DeviceChoice::Cpu => {
                "the CPU: ganstyle's own runtime for inference, burn flex for training"
            }
            DeviceChoice::Gpu => {
                "burn-wgpu on the best adapter wgpu finds (a software one such as lavapipe counts)"
            }
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: ValueEnum + PartialEq + std::fmt::Debug>(name: impl Fn(&T) -> &'static str) {
        for v in T::value_variants() {
            assert_eq!(T::from_str(name(v), false).as_ref(), Ok(v));
        }
    }

    #[test]
    fn every_choice_parses_from_its_own_name() {
        round_trips::<Arch>(|a| a.name());
        round_trips::<GanLoss>(|g| g.name());
        round_trips::<DeviceChoice>(|d| d.name());
        assert!(Arch::from_str("resnet", false).is_err());
    }
}
