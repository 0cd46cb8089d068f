//! Where a training step's time went: the generator's update, the loss network (when it runs
//! outside burn's graph, timed on its own) and the discriminator's update.

/// Where a step's time went, seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepTimes {
    /// The generator's update: forward passes, losses, backward pass, optimizer step (and the
    /// loss network's share when it runs inside burn's graph).
    pub generator: f64,
    /// The loss network's forward and backward passes, when timed on their own.
    pub loss_network: Option<f64>,
    /// The discriminator's update.
    pub discriminator: f64,
}

impl StepTimes {
    /// The whole step.
    pub fn total(&self) -> f64 {
        self.generator + self.loss_network.unwrap_or(0.0) + self.discriminator
    }

    /// For a progress line: `step 3.10 s (generator 0.90, loss network 1.80, discriminator 0.40)`.
    pub fn describe(&self) -> String {
        let network = match self.loss_network {
            Some(s) => format!(", loss network {s:.2}"),
            None => " incl. loss network".into(),
        };
        format!(
            "step {:.2} s (generator {:.2}{network}, discriminator {:.2})",
            self.total(),
            self.generator,
            self.discriminator
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_adds_up_and_says_where_the_loss_network_ran() {
        let apart = StepTimes {
            generator: 1.0,
            loss_network: Some(2.5),
            discriminator: 0.25,
        };
        assert_eq!(apart.total(), 3.75);
        assert_eq!(
            apart.describe(),
            "step 3.75 s (generator 1.00, loss network 2.50, discriminator 0.25)"
        );
        let inside = StepTimes {
            loss_network: None,
            ..apart
        };
        assert_eq!(inside.total(), 1.25);
        assert!(
            inside
                .describe()
                .contains("generator 1.00 incl. loss network")
        );
    }
}
