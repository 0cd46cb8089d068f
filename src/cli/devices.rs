//! `ganstyle devices`: cameras (nokhwa) and compute devices (CPU, wgpu adapters).

use clap::Args;

use crate::device::adapters;
use crate::media::camera;

/// List cameras and compute devices.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle devices
  ganstyle live --camera 1        # the second camera listed here")]
pub struct DevicesArgs {}

/// Run `ganstyle devices`.
pub fn run(_: DevicesArgs) -> anyhow::Result<()> {
    println!("cameras (--camera N):");
    match camera::list() {
        Ok(list) if list.is_empty() => {
            println!(
                "  none found (no /dev/video* camera); `ganstyle live --source test` runs without one"
            )
        }
        Ok(list) => {
            for c in list {
                println!("  {}: {} ({})", c.index, c.name, c.description);
            }
        }
        Err(err) => println!("  {err}"),
    }
    println!("compute devices (--device):");
    println!(
        "  cpu: burn flex on {} threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let found = adapters();
    if found.is_empty() {
        println!(
            "  gpu: no wgpu adapter (install a Vulkan driver; mesa-vulkan-drivers has a software one)"
        );
    }
    for a in found {
        let kind = if a.hardware {
            "hardware GPU"
        } else {
            "software (CPU) rasterizer"
        };
        println!("  gpu: {} ({}, {kind})", a.name, a.backend);
    }
    println!(
        "  auto: {}",
        if adapters().iter().any(|a| a.hardware) {
            "gpu"
        } else {
            "cpu (no hardware GPU)"
        }
    );
    Ok(())
}
