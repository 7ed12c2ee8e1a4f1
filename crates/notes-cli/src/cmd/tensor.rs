//! `notes tensor`: subcommands backed by `notes-tensor`.

use std::io::Write;

use anyhow::Context;
use ndarray::{Array, Array1, Array2, Array3};
use notes_tensor::{AnyArray, Form, NpzCompression, NumpyDisplayExt, PrintOptions};
use serde::Serialize;

use crate::cli::tensor::{FormArg, MultiheadArgs, PrintArgs, TensorArgs, TensorCommand};
use crate::files::write_atomically;
use crate::output::Out;
use crate::repr::python_shape;

/// `notes tensor ...`.
pub(crate) fn run(args: &TensorArgs, out: &mut Out) -> anyhow::Result<()> {
    match &args.command {
        TensorCommand::Demo => demo(out),
        TensorCommand::Print(args) => print(args, out),
        TensorCommand::Multihead(args) => multihead(args, out),
    }
}

/// One printed array of `notes --json tensor ...`: its numpy text, shape and element type.
#[derive(Serialize)]
struct JsonArray {
    dtype: &'static str,
    shape: Vec<usize>,
    text: String,
}

impl JsonArray {
    fn new<A: notes_tensor::NumpyElement>(
        a: &ndarray::ArrayViewD<'_, A>,
        dtype: &'static str,
    ) -> Self {
        Self {
            dtype,
            shape: a.shape().to_vec(),
            text: a.numpy_display(&PrintOptions::default()).to_string(),
        }
    }
}

/// One of the notes' examples in `notes --json tensor demo`.
#[derive(Serialize)]
struct JsonExample {
    form: &'static str,
    x: JsonArray,
    w: JsonArray,
    y: JsonArray,
}

/// The notes' first example: `x = 100 ** flip(arange(d)).reshape(1, d, 1)`,
/// `w = arange(m*n*d).reshape(m, n, d)`, `y = (w @ x).squeeze(-1)`.
fn heads_first_arrays() -> anyhow::Result<JsonExample> {
    let (m, n, d) = (3, 4, 5);
    let x: Array1<i64> = Array::from_iter((0..d as u32).rev().map(|p| 100_i64.pow(p)));
    let w: Array3<i64> =
        Array::from_iter(0..(m * n * d) as i64).into_shape_with_order((m, n, d))?;
    let y = notes_tensor::heads_first(&w, &x)?;
    let x_shown = x.view().into_shape_with_order((1, d, 1))?;
    Ok(JsonExample {
        form: "heads-first",
        x: JsonArray::new(&x_shown.into_dyn(), "int64"),
        w: JsonArray::new(&w.view().into_dyn(), "int64"),
        y: JsonArray::new(&y.view().into_dyn(), "int64"),
    })
}

/// The notes' second example: `x = 100 ** flip(arange(b*d)).reshape(b, 1, 1, d)`,
/// `w = arange(m*n*d).reshape(m, d, n)`, `y = (x @ w).squeeze(-2)`.
fn batched_arrays() -> anyhow::Result<JsonExample> {
    let (m, n, d, b) = (5, 4, 3, 2);
    let x: Array2<i64> = Array::from_iter((0..(b * d) as u32).rev().map(|p| 100_i64.pow(p)))
        .into_shape_with_order((b, d))?;
    let w: Array3<i64> =
        Array::from_iter(0..(m * n * d) as i64).into_shape_with_order((m, d, n))?;
    let y = notes_tensor::batched(&x, &w)?;
    let x_shown = x.view().into_shape_with_order((b, 1, 1, d))?;
    Ok(JsonExample {
        form: "batched",
        x: JsonArray::new(&x_shown.into_dyn(), "int64"),
        w: JsonArray::new(&w.view().into_dyn(), "int64"),
        y: JsonArray::new(&y.view().into_dyn(), "int64"),
    })
}

/// Prints the notes' first example as the notes do.
pub(crate) fn heads_first_example(out: &mut Out) -> anyhow::Result<()> {
    print_xwy(out, &heads_first_arrays()?)
}

/// Prints the notes' second example as the notes do.
pub(crate) fn batched_example(out: &mut Out) -> anyhow::Result<()> {
    print_xwy(out, &batched_arrays()?)
}

/// `print(x)`, `print(x.shape)`, and the same for w and y.
fn print_xwy(out: &mut Out, example: &JsonExample) -> anyhow::Result<()> {
    for a in [&example.x, &example.w, &example.y] {
        writeln!(out, "{}", a.text)?;
        writeln!(out, "{}", python_shape(&a.shape))?;
    }
    Ok(())
}

/// `notes tensor demo`.
fn demo(out: &mut Out) -> anyhow::Result<()> {
    let examples = [heads_first_arrays()?, batched_arrays()?];
    if out.json {
        return out.json(&examples);
    }
    writeln!(
        out,
        "# y = (w @ x).squeeze(-1)  (notes_tensor::heads_first)"
    )?;
    print_xwy(out, &examples[0])?;
    writeln!(out)?;
    writeln!(out, "# y = (x @ w).squeeze(-2)  (notes_tensor::batched)")?;
    print_xwy(out, &examples[1])
}

/// `notes tensor print FILE.npy|FILE.npz [options]`.
fn print(args: &PrintArgs, out: &mut Out) -> anyhow::Result<()> {
    let options = args.options();
    let show = |array: &AnyArray, order| {
        if args.repr {
            array.repr_in(order, &options)
        } else {
            array.format(&options)
        }
    };
    let (array, order) = match notes_tensor::load(&args.file)? {
        notes_tensor::Loaded::Npy(array, order) => (array, order),
        notes_tensor::Loaded::Npz(mut npz) => {
            // One member in memory at a time; the JSON list is only texts.
            let mut json = Vec::new();
            for i in 0..npz.len() {
                let (key, array, order) = npz.by_index_with_order(i)?;
                let text = show(&array, order);
                if out.json {
                    json.push(JsonMember {
                        key,
                        dtype: array.dtype(),
                        shape: array.shape().to_vec(),
                        text,
                    });
                } else {
                    writeln!(out, "{key}")?;
                    writeln!(out, "{text}")?;
                }
            }
            if out.json {
                return out.json(&json);
            }
            return Ok(());
        }
    };
    let text = show(&array, order);
    if out.json {
        return out.json(&JsonArray {
            dtype: array.dtype(),
            shape: array.shape().to_vec(),
            text,
        });
    }
    writeln!(out, "{text}")?;
    Ok(())
}

/// One member of `notes --json tensor print FILE.npz`.
#[derive(Serialize)]
struct JsonMember {
    key: String,
    dtype: &'static str,
    shape: Vec<usize>,
    text: String,
}

/// `notes tensor multihead --x X.npy --w W.npy [--form F] -o Y.npy`.
fn multihead(args: &MultiheadArgs, out: &mut Out) -> anyhow::Result<()> {
    let x = notes_tensor::read_npy(&args.x)?;
    let w = notes_tensor::read_npy(&args.w)?;
    let form = match args.form {
        FormArg::HeadsFirst => Form::HeadsFirst,
        FormArg::Batched => Form::Batched,
    };
    let y: AnyArray = notes_tensor::multihead(&x, &w, form, &args.x).with_context(|| {
        format!(
            "cannot multiply {} by {}",
            args.x.display(),
            args.w.display()
        )
    })?;
    let npz = args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    if args.compressed && !npz {
        anyhow::bail!(
            "--compressed needs a .npz output, and {} is not one",
            args.output.display()
        );
    }
    write_atomically(&args.output, args.force, |w| {
        if npz {
            let compression = if args.compressed {
                NpzCompression::Deflated
            } else {
                NpzCompression::Stored
            };
            notes_tensor::write_npz(w, &[("y", &y)], compression, &args.output)?;
        } else {
            y.write_npy_to(w, &args.output)?;
        }
        Ok(())
    })?;
    if out.json {
        #[derive(Serialize)]
        struct Wrote<'a> {
            output: &'a std::path::Path,
            dtype: &'static str,
            shape: &'a [usize],
        }
        return out.json(&Wrote {
            output: &args.output,
            dtype: y.dtype(),
            shape: y.shape(),
        });
    }
    writeln!(
        out,
        "wrote {}: {} {}",
        args.output.display(),
        y.dtype(),
        python_shape(y.shape())
    )?;
    Ok(())
}
