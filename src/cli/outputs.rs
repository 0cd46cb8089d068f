//! Where `image` and `restyle` write: `-o FILE` for one input, or `--out-dir DIR` where each
//! output keeps its input's name. Every path is worked out, and checked, before any work starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;

use crate::files::refuse_existing;

/// The output options shared by the commands that take several inputs.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output file (one input only).
    #[arg(long, short = 'o', conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
    /// Output folder: each output keeps its input's file name (see the extension rule below).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Replace existing outputs.
    #[arg(long)]
    pub force: bool,
}

impl OutputArgs {
    /// One output per input: `-o` for a single input, else `DIR/STEM.EXT` with `extension(input)`.
    /// Errors when neither is given, when `-o` meets several inputs, when two inputs would
    /// write the same file, and (without `--force`) when an output exists.
    pub fn paths(
        &self,
        inputs: &[PathBuf],
        extension: impl Fn(&Path) -> String,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let outputs = match (&self.output, &self.out_dir) {
            (Some(out), None) if inputs.len() == 1 => vec![out.clone()],
            (Some(_), None) => bail!(
                "--output takes one input; use --out-dir for {} inputs",
                inputs.len()
            ),
            (None, Some(dir)) => inputs
                .iter()
                .map(|input| match input.file_stem() {
                    Some(stem) => Ok(dir.join(stem).with_extension(extension(input))),
                    None => bail!("{}: not a file name", input.display()),
                })
                .collect::<anyhow::Result<_>>()?,
            _ => bail!("give --output FILE (-o, for one input) or --out-dir DIR"),
        };
        let mut seen = HashMap::new();
        for (input, output) in inputs.iter().zip(&outputs) {
            if let Some(first) = seen.insert(output, input) {
                bail!(
                    "{} and {} would both write {}",
                    first.display(),
                    input.display(),
                    output.display()
                );
            }
            refuse_existing(output, self.force)
                .map_err(|err| anyhow::anyhow!(super::explain(&err)))?;
        }
        Ok(outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(output: Option<&str>, out_dir: Option<&str>) -> OutputArgs {
        OutputArgs {
            output: output.map(PathBuf::from),
            out_dir: out_dir.map(PathBuf::from),
            force: false,
        }
    }

    fn inputs(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    fn png(_: &Path) -> String {
        "png".into()
    }

    #[test]
    fn one_file_or_a_folder_of_inputs_names() {
        let one = args(Some("/nowhere/out.png"), None).paths(&inputs(&["a.jpg"]), png);
        assert_eq!(one.unwrap(), inputs(&["/nowhere/out.png"]));
        let dir = args(None, Some("/nowhere")).paths(&inputs(&["x/a.jpg", "y/b.png"]), png);
        assert_eq!(dir.unwrap(), inputs(&["/nowhere/a.png", "/nowhere/b.png"]));
    }

    #[test]
    fn ambiguous_or_colliding_outputs_are_refused() {
        let error =
            |a: OutputArgs, names: &[&str]| a.paths(&inputs(names), png).unwrap_err().to_string();
        assert!(error(args(Some("o.png"), None), &["a", "b"]).contains("--out-dir for 2 inputs"));
        assert!(error(args(None, None), &["a"]).contains("give --output"));
        let collision = error(args(None, Some("/nowhere")), &["x/a.jpg", "y/a.png"]);
        assert!(
            collision.contains("x/a.jpg and y/a.png would both write /nowhere/a.png"),
            "{collision}"
        );
    }

    #[test]
    fn existing_outputs_need_force() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("a.png");
        std::fs::write(&existing, b"keep").unwrap();
        let mut a = args(None, dir.path().to_str());
        let err = a.paths(&inputs(&["a.jpg"]), png).unwrap_err().to_string();
        assert!(err.contains("a.png exists; pass --force"), "{err}");
        a.force = true;
        assert_eq!(a.paths(&inputs(&["a.jpg"]), png).unwrap(), vec![existing]);
    }
}
