"""Diffusion generator: conditioning, pipeline layout and loading, two-stage training and resume, audit, sampling."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from models.generator.audit import audit  # noqa: E402
from models.generator.config import GeneratorConfig, build_scheduler, build_unet, use_sampler  # noqa: E402
from models.generator.identity import vectors  # noqa: E402
from models.generator.pipeline import PhenoFacePipeline, condition_vector  # noqa: E402
from models.generator.privacy_index import Thresholds, build_checker, install, load_checker  # noqa: E402
from models.phenotype.cohort import draw_subjects, write_cohort  # noqa: E402
from models.provenance import read_png_metadata  # noqa: E402

CLASSES = ["unaffected", "down", "williams_beuren"]
TINY = dict(resolution=32, block_out_channels=(16, 32), attention_levels=(1,), class_names=CLASSES)

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def tiny_pipeline(seed: int = 0, time_scale_shift: str = "default", vocabulary=()) -> PhenoFacePipeline:
    torch.manual_seed(seed)
    config = GeneratorConfig(**TINY, time_scale_shift=time_scale_shift, hpo_vocabulary=list(vocabulary))
    return PhenoFacePipeline(
        unet=build_unet(config),
        scheduler=build_scheduler(config),
        class_names=CLASSES,
        hpo_vocabulary=config.hpo_vocabulary,
    )


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen_cohort")
    write_cohort(out, draw_subjects(CLASSES, 3, seed=3), size=128, mark=False)
    return out


@pytest.fixture(scope="module")
def trained(cohort, tmp_path_factory):
    """A two-stage run of 3 + 3 steps with a checkpoint every 2 steps."""
    from models.generator import train

    out = tmp_path_factory.mktemp("gen_run")
    argv = [
        "--data",
        str(cohort),
        "--pretrain-data",
        str(cohort),
        "--pretrain-steps",
        "3",
        "--max-train-steps",
        "3",
        "--out",
        str(out),
        "--resolution",
        "32",
        "--block-out-channels",
        "16,32",
        "--batch-size",
        "4",
        "--checkpointing_steps",
        "2",
        "--sample-every",
        "6",
        "--snr_gamma",
        "5",
        "--timestep_bias_strategy",
        "later",
        "--timestep_bias_multiplier",
        "2",
        "--time-scale-shift",
        "scale_shift",
        "--quiet",
    ]
    assert train.cli(argv) == 0
    return out, argv


def test_condition_vector_layout_and_errors():
    c = condition_vector(CLASSES, ["down", "unaffected"], [9.0, 0.0], ["male", "female"], [10, 1])
    assert c.shape == (2, len(CLASSES) + 5) and c.dtype == torch.float32
    assert c[0, 1] == 1 and c[0, 3] == pytest.approx(0.5) and c[0, 4] == 1 and c[0, 6] == 1 and c[0, 7] == 1
    assert c[1, 0] == 1 and c[1, 5] == 1 and c[1, 6] == 0
    with pytest.raises(ValueError, match="unknown syndrome"):
        condition_vector(CLASSES, "noonan", 5, "female", 3)
    with pytest.raises(ValueError, match="age"):
        condition_vector(CLASSES, "down", 19, "female", 3)
    with pytest.raises(ValueError, match="Monk"):
        condition_vector(CLASSES, "down", 5, "female", 11)
    with pytest.raises(ValueError, match="entries"):
        condition_vector(CLASSES, ["down", "down"], [1, 2, 3], "female", 3)


def test_condition_vector_hpo_slots():
    vocab = ["HP:0000316", "HP:0000431", "HP:0000494"]
    c = condition_vector(CLASSES, ["down", "down"], 4.0, "female", 3, hpo_vocabulary=vocab,
                         hpo_terms=[["HP:0000494"], []])  # fmt: skip
    k = len(CLASSES) + 5
    assert c.shape == (2, k + 3)
    assert c[0, k:].tolist() == [0.0, 0.0, 1.0] and c[1, k:].tolist() == [0.0, 0.0, 0.0]
    same = condition_vector(CLASSES, "down", 4.0, "female", 3, 2, vocab, ["HP:0000316", "HP:0000431"])
    assert same[:, k:].tolist() == [[1.0, 1.0, 0.0]] * 2
    assert torch.equal(condition_vector(CLASSES, "down", 4.0, "female", 3, hpo_vocabulary=vocab)[0, :k], same[0, :k])
    with pytest.raises(ValueError, match="not among the 3 HPO terms"):
        condition_vector(CLASSES, "down", 4.0, "female", 3, hpo_vocabulary=vocab, hpo_terms=["HP:0000001"])
    with pytest.raises(ValueError, match="not trained on HPO terms"):
        condition_vector(CLASSES, "down", 4.0, "female", 3, hpo_terms=["HP:0000316"])
    with pytest.raises(ValueError, match="entries"):
        condition_vector(CLASSES, "down", 4.0, "female", 3, 3, vocab, [["HP:0000316"], []])


def test_hpo_terms_change_the_output_of_a_generator_conditioned_on_them():
    pipe = tiny_pipeline(vocabulary=["HP:0000316", "HP:0000431"])
    assert pipe.unet.config.projection_class_embeddings_input_dim == len(CLASSES) + 5 + 2
    noise = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))

    def draw(terms):
        return pipe(syndrome="down", hpo_terms=terms, latents=noise.clone(), num_inference_steps=3, output_type="np")

    assert np.abs(draw(["HP:0000316"]).images - draw([]).images).mean() > 1e-3
    assert np.array_equal(draw(None).images, draw([]).images)  # no terms given: the syndrome's gestalt
    with pytest.raises(ValueError, match="not trained on HPO terms"):
        tiny_pipeline()(syndrome="down", hpo_terms=["HP:0000316"], num_inference_steps=1)


@pytest.mark.parametrize("time_scale_shift", ["default", "scale_shift"])
def test_conditioning_changes_the_output(time_scale_shift):
    # diffusers issue 5330: class labels are ignored silently by a UNet without a class embedding
    pipe = tiny_pipeline(time_scale_shift=time_scale_shift)
    assert pipe.unet.config.resnet_time_scale_shift == time_scale_shift
    noise = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    outs = {
        name: pipe(syndrome=name, latents=noise.clone(), num_inference_steps=3, output_type="np").images
        for name in CLASSES
    }
    assert outs["down"].shape == (1, 32, 32, 3)
    assert np.abs(outs["down"] - outs["unaffected"]).mean() > 1e-3
    assert np.abs(outs["down"] - outs["williams_beuren"]).mean() > 1e-3
    older = pipe(syndrome="down", age_years=15, latents=noise.clone(), num_inference_steps=3, output_type="np").images
    assert np.abs(older - outs["down"]).mean() > 1e-4


def test_guidance_interval_skips_the_unconditioned_pass_outside_it():
    pipe = tiny_pipeline()
    noise = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    calls = []
    pipe.unet.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))

    def run(**kw):
        calls.clear()
        out = pipe(syndrome=["down", "down"], latents=noise.clone(), num_inference_steps=4, output_type="np", **kw)
        return out.images

    everywhere = run(guidance_scale=3.0, guidance_interval=None)
    assert calls == [4] * 4  # conditioned and null halves in one batch at every step
    run(guidance_scale=3.0)
    assert calls[-1] == 2  # by default the last, least noisy steps skip the unconditioned pass
    assert np.array_equal(run(guidance_scale=3.0, guidance_interval=(0.0, 1e9)), everywhere)
    nowhere = run(guidance_scale=3.0, guidance_interval=(1e8, 1e9))
    assert calls == [2] * 4
    assert np.array_equal(nowhere, run(guidance_scale=1.0))
    assert np.abs(nowhere - everywhere).mean() > 1e-4
    some = run(guidance_scale=3.0, guidance_interval=(0.28, 5.42))
    assert 2 in calls and 4 in calls
    assert not np.array_equal(some, everywhere)
    with pytest.raises(ValueError, match="guidance_interval"):
        run(guidance_interval=(2.0, 1.0))


def test_image_to_image_keeps_more_of_the_image_at_lower_strength():
    pipe = tiny_pipeline()
    size = pipe.unet.config.sample_size
    image = torch.rand((2, 3, size, size), generator=torch.Generator().manual_seed(1))

    def redraw(strength, seed=3, picture=image):
        g = torch.Generator().manual_seed(seed)
        out = pipe(syndrome="down", batch_size=2, num_inference_steps=10, generator=g, image=picture,
                   strength=strength, output_type="pt").images  # fmt: skip
        return float(((out - picture) ** 2).mean()), out

    for sampler in ("ddim", "dpm++"):
        use_sampler(pipe, sampler)
        near, out = redraw(0.1)
        far, _ = redraw(1.0)
        assert near < 0.01 < far
        assert torch.equal(out, redraw(0.1)[1]) and not torch.equal(out, redraw(0.1, seed=4)[1])
        assert not torch.equal(out, redraw(0.1, picture=image.flip(-1))[1])
    for bad, match in [({"image": image, "strength": 0.0}, "strength"), ({"strength": 0.5}, "pass image"),
                       ({"image": image, "strength": 0.05}, "keeps none"), ({"image": image[:1]}, "image must"),
                       ({"image": image * 2}, "image must")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            pipe(syndrome="down", batch_size=2, num_inference_steps=10, **bad)


def test_unet_without_class_embedding_is_refused():
    from diffusers import UNet2DConditionModel

    config = GeneratorConfig(**TINY)
    plain = UNet2DConditionModel(
        sample_size=32,
        block_out_channels=(16, 32),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        mid_block_type="UNetMidBlock2D",
        norm_num_groups=16,
        layers_per_block=1,
    )
    with pytest.raises(ValueError, match="class embedding"):
        PhenoFacePipeline(unet=plain, scheduler=build_scheduler(config), class_names=CLASSES)


def test_same_seed_same_image_and_both_samplers():
    pipe = tiny_pipeline()
    for sampler in ("ddim", "dpm++"):
        use_sampler(pipe, sampler)
        a = pipe(syndrome="down", num_inference_steps=4, generator=torch.Generator().manual_seed(3), output_type="np")
        b = pipe(syndrome="down", num_inference_steps=4, generator=torch.Generator().manual_seed(3), output_type="np")
        assert np.array_equal(a.images, b.images)
        assert a.images.min() >= 0 and a.images.max() <= 1
    with pytest.raises(ValueError, match="num_inference_steps"):
        pipe(num_inference_steps=0)
    with pytest.raises(ValueError, match="sampler"):
        use_sampler(pipe, "euler")


def test_training_writes_a_loadable_standard_pipeline(trained, tmp_path):
    import shutil

    out, _ = trained
    index = json.loads((out / "model_index.json").read_text())
    assert index["unet"] == ["diffusers", "UNet2DConditionModel"]
    # the sampler the app and the figures use is the folder's own
    assert index["scheduler"] == ["diffusers", "DPMSolverMultistepScheduler"]
    assert json.loads((out / "scheduler" / "scheduler_config.json").read_text())["algorithm_type"] == "dpmsolver++"
    assert index["class_names"] == CLASSES and len(index["weights_sha256"]) == 64
    # class names and vocabulary are stored once, in model_index.json
    assert "class_names" not in json.loads((out / "generator_config.json").read_text())
    assert GeneratorConfig.load(out).class_names == CLASSES
    assert index["shape_model"] == index["privacy_checker"] == [None, None]
    for name in (
        "pipeline.py",
        "unet/diffusion_pytorch_model.safetensors",
        "generator_config.json",
        "train_args.json",
        "README.md",
        "samples/step-000006.png",
    ):
        assert (out / name).is_file(), name
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [6]
    card = (out / "README.md").read_text()
    assert "Min-SNR-5 weighted, timesteps in the noisiest 25% drawn 2 times as often" in card
    assert "(AdaGN)" in card and GeneratorConfig.load(out).time_scale_shift == "scale_shift"
    assert json.loads((out / "unet" / "config.json").read_text())["resnet_time_scale_shift"] == "scale_shift"
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-6"]  # limit 2, last kept
    # a researcher without PhenoFace: only diffusers, from another folder, the privacy checker included
    shipped = tmp_path / "shipped"
    shutil.copytree(out, shipped)
    install(shipped, build_checker(torch.randn(5, 128), Thresholds()))
    code = (
        "import sys, torch\n"
        f"sys.path = [p for p in sys.path if p not in ('', '.', {os.getcwd()!r})]\n"
        "from diffusers import DiffusionPipeline\n"
        f"p = DiffusionPipeline.from_pretrained({str(shipped)!r}, custom_pipeline={str(shipped)!r}, "
        "trust_remote_code=True)\n"
        "out = p(syndrome='down', num_inference_steps=2, generator=torch.Generator().manual_seed(0))\n"
        "assert 'models' not in sys.modules\n"
        "print(type(p).__name__, type(p.privacy_checker).__name__, out.images[0].size, out.near_copy_detected)\n"
    )
    env = {**os.environ, "PYTHONPATH": "", "HF_HOME": str(tmp_path / "hf")}
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=out.parent, env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "PhenoFacePipeline PhenoFacePrivacyChecker (32, 32) [False]" in res.stdout


def test_resume_extends_a_finished_run_from_its_last_step(trained, tmp_path, capsys):
    import shutil

    from models.generator import train

    out, argv = trained
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    argv = [a if a != str(out) else str(copy) for a in argv if a != "--quiet"]
    argv[argv.index("--max-train-steps") + 1] = "5"
    assert train.cli([*argv, "--resume_from_checkpoint", "latest"]) == 0
    assert f"resumed from {copy / 'checkpoint-6'} (step 6)" in capsys.readouterr().err
    steps = [json.loads(line)["step"] for line in (copy / "metrics.jsonl").read_text().splitlines()]
    assert steps == [6, 8]  # 3 + 3 steps, extended to 3 + 5
    assert sorted(p.name for p in copy.glob("checkpoint-*")) == ["checkpoint-6", "checkpoint-8"]


def test_a_new_run_into_a_folder_holding_a_run_is_refused_and_the_folder_kept(trained, tmp_path, capsys):
    import shutil

    from models.generator import train

    out, argv = trained
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    before = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert train.cli([a if a != str(out) else str(copy) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "already holds a training run" in err and "--resume_from_checkpoint latest" in err
    assert {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before


def test_bad_training_arguments_exit_2(cohort, tmp_path, capsys):
    from models.generator import train

    base = ["--data", str(cohort), "--out", str(tmp_path / "x"), "--max-train-steps", "1"]
    if not torch.cuda.is_available():
        assert train.cli([*base, "--mixed_precision", "fp16"]) == 2
        assert "fp16 needs a GPU" in capsys.readouterr().err
    assert train.cli([*base, "--pretrain-steps", "5"]) == 2
    assert "--pretrain-data" in capsys.readouterr().err
    assert train.cli([*base, "--block-out-channels", "16,abc"]) == 2
    assert train.cli([*base, "--snr_gamma", "0"]) == 2
    assert "--snr_gamma must be positive" in capsys.readouterr().err
    assert train.cli([*base, "--timestep_bias_multiplier", "0"]) == 2
    assert "--timestep_bias_multiplier must be > 0" in capsys.readouterr().err
    assert (
        train.cli(
            [*base, "--timestep_bias_strategy", "range", "--timestep_bias_begin", "900", "--timestep_bias_end", "100"]
        )
        == 2
    )
    assert "begin < end" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_min_snr_weighting_caps_the_x0_error_weight_at_gamma():
    from models.generator.loss import diffusion_loss, snr_weights

    config = GeneratorConfig(**TINY)
    sched = build_scheduler(config)
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(6, 3, 8, 8, generator=g), torch.randn(6, 3, 8, 8, generator=g)
    t = torch.tensor([0, 50, 200, 500, 800, 999])
    v = sched.get_velocity(x0, noise, t)
    pred = v + 0.1 * torch.randn(v.shape, generator=g)
    assert torch.equal(diffusion_loss(pred, v, t, sched, None), torch.nn.functional.mse_loss(pred, v))
    # Hang et al. 2023: the v-prediction weight turns the loss into min(SNR, gamma) times the x0 error
    alpha_bar = sched.alphas_cumprod[t].view(-1, 1, 1, 1)
    noisy = sched.add_noise(x0, noise, t)
    x0_hat = alpha_bar.sqrt() * noisy - (1 - alpha_bar).sqrt() * pred
    snr = (alpha_bar / (1 - alpha_bar)).flatten()
    x0_err = ((x0_hat - x0) ** 2).mean(dim=(1, 2, 3))
    expected = (torch.clamp(snr, max=5.0) * x0_err).mean()
    assert torch.allclose(diffusion_loss(pred, v, t, sched, 5.0), expected, rtol=1e-3)
    w = snr_weights(sched, t, 5.0, "v_prediction")
    assert w.shape == (6,) and bool((w > 0).all()) and float(w.max()) <= 5.0 / 6.0 + 1e-6
    assert float(w[0]) < 0.01  # the least noisy step, which plain MSE would weigh like any other
    eps = snr_weights(sched, t, 5.0, "epsilon")
    assert float(eps[-1]) == pytest.approx(1.0) and float(eps[0]) < 0.01
    with pytest.raises(ValueError, match="gamma"):
        snr_weights(sched, t, 0.0, "v_prediction")
    with pytest.raises(ValueError, match="prediction_type"):
        snr_weights(sched, t, 5.0, "sample")


def test_timestep_bias_draws_the_favoured_band_more_often():
    from models.generator.loss import timestep_weights

    uniform = timestep_weights(1000)
    assert uniform.shape == (1000,) and torch.allclose(uniform, torch.full((1000,), 1e-3, dtype=torch.float64))
    later = timestep_weights(1000, "later", multiplier=3.0, portion=0.25)
    assert float(later.sum()) == pytest.approx(1.0)
    assert float(later[750:].sum()) == pytest.approx(0.5)  # 250 * 3 against 750 * 1
    draws = torch.multinomial(later, 20_000, replacement=True, generator=torch.Generator().manual_seed(0))
    assert abs(float((draws >= 750).float().mean()) - 0.5) < 0.02
    earlier = timestep_weights(1000, "earlier", multiplier=4.0, portion=0.5)
    assert float(earlier[:500].sum()) == pytest.approx(0.8)
    band = timestep_weights(1000, "range", multiplier=2.0, begin=400, end=600)
    assert float(band[450] / band[100]) == pytest.approx(2.0) and float(band[600] / band[100]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="strategy"):
        timestep_weights(1000, "noisier")
    with pytest.raises(ValueError, match="begin < end"):
        timestep_weights(1000, "range", multiplier=2.0, begin=600, end=400)
    with pytest.raises(ValueError, match="multiplier"):
        timestep_weights(1000, "later", multiplier=0.0)


def test_privacy_index_flags_a_copy_not_a_new_child(tmp_path):
    from PIL import Image

    from models.alignment import preprocess
    from models.generator.identity import to_size
    from models.generator.privacy_index import thresholds_of
    from models.phenotype.spec import RenderSpec
    from models.phenotype.synthesizer import render

    def crop(spec):
        s = render(spec)
        return preprocess(s.image, s.landmarks)

    train = np.stack([crop(RenderSpec(syndrome="down", seed=s, age=6)) for s in range(6)])
    new = crop(RenderSpec(syndrome="down", seed=99, age=6))
    tiny_pipeline().save_pretrained(tmp_path)
    install(tmp_path, build_checker(vectors(train), Thresholds()))
    assert json.loads((tmp_path / "model_index.json").read_text())["privacy_checker"][1] == "PhenoFacePrivacyChecker"
    loaded = load_checker(tmp_path)
    assert loaded.vectors.shape == (6, 128) and thresholds_of(loaded) == Thresholds()
    flagged, d1, ratio = loaded.check(np.stack([train[2], new]))
    assert flagged.tolist() == [True, False]
    assert d1[0] < 0.05 < d1[1]
    # The generator trains on flipped images, so a copy may come back mirrored, or nudged by a pixel.
    small = to_size(train)
    mirrored, shifted = small[3, :, ::-1], np.roll(small[4], (1, -2), axis=(0, 1))
    queries = np.stack([small[2], to_size(new[None])[0], mirrored, shifted])
    assert loaded.check(queries)[0].tolist() == [True, False, True, True]
    result = audit(queries, train, Thresholds())
    assert result["flagged"].tolist() == [True, False, True, True]
    assert result["nearest"].tolist()[::2] == [2, 3] and result["nearest"][3] == 4
    assert result["ssim"][[0, 2, 3]].min() > 0.99 > result["ssim"][1]
    # Moved or scaled beyond the views, a copy is found again once re-aligned from its own face.
    scaled = Image.fromarray(small[5]).resize((70, 70), Image.Resampling.LANCZOS).crop((3, 3, 67, 67))
    moved = np.stack([np.asarray(scaled), np.roll(small[4], (4, 0), axis=(0, 1))])
    realigned = audit(moved, train, Thresholds())
    assert realigned["flagged"].tolist() == [True, True] and realigned["nearest"].tolist() == [5, 4]
    assert audit(moved, train, Thresholds(), realign=False)["flagged"].tolist() == [False, False]
    assert load_checker(tmp_path / "nothing") is None


def test_calibration_searches_the_training_set_like_the_audit(cohort):
    from models.generator.audit import calibrate, load_folder_images

    # the cohort is drawn by the 2.5D engine (write_cohort's default), so the calibration's children are too: drawn
    # by the 3D engine against a 2.5D cohort, whether any came nearest to a training child depended on how alike
    # the two engines happened to render (none did once the 3D skin, lips and eyes changed)
    train, _ = load_folder_images(cohort, aligned=False)
    t, cal = calibrate(6, seed=1, train=train, different=20, false_alarm=0.1, engine="phenotype")
    assert t.min_ssim >= np.percentile(cal["different"]["ssim"], 90)
    assert cal["rates"]["different"]["ssim_rule"] <= 0.1
    assert f"among {len(train)} training images" in t.source and "20 new rendered children" in t.source
    # Different children are searched among the training images too, as samples are: their nearest
    # is never further than among the renders alone, and for some it is a training child.
    _, alone = calibrate(6, seed=1, different=20, false_alarm=0.1, engine="phenotype")
    with_train, without = np.array(cal["different"]["d1"]), np.array(alone["different"]["d1"])
    assert (with_train <= without + 1e-6).all() and (with_train < without - 1e-6).any()
    # the children are drawn by the engine that drew the training cohort: the app's 3D child unless told
    assert t.source.endswith("children drawn by phenotype")
    default, default_cal = calibrate(6, seed=1, different=20, false_alarm=0.1)
    assert default.source.endswith("children drawn by phenotype_3d")
    assert default_cal["same"]["d1"] != alone["same"]["d1"]
    with pytest.raises(ValueError, match="holdout images are training images"):
        calibrate(2, seed=1, train=train, holdout=train[:3], false_alarm=0.1)
    with pytest.raises(ValueError, match="false_alarm"):
        calibrate(2, train=train, false_alarm=0.5)


def test_audit_cli_flags_a_copied_child_and_writes_its_report(cohort, tmp_path, capsys):
    import csv

    from PIL import Image

    from models.alignment import preprocess
    from models.generator import audit as audit_cli
    from models.generator.audit import load_folder_images
    from models.generator.identity import to_size
    from models.phenotype.spec import RenderSpec
    from models.phenotype.synthesizer import render

    train, names = load_folder_images(cohort, aligned=False)
    other = render(RenderSpec(syndrome="down", seed=99, age=6))
    generated = tmp_path / "generated"
    generated.mkdir()
    Image.fromarray(train[1]).save(generated / "a_copy.png")
    Image.fromarray(to_size(preprocess(other.image, other.landmarks)[None])[0]).save(generated / "b_new.png")
    out = tmp_path / "report"
    argv = ["--train", str(cohort), "--generated", str(generated), "--out", str(out), "--calibrate", "10"]
    argv += ["--different", "10", "--false-alarm", "0.1"]
    assert audit_cli.main(argv) == 1  # a sample was flagged
    with open(out / "audit.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["sample"], r["flagged"]) for r in rows] == [("a_copy.png", "1"), ("b_new.png", "0")]
    assert rows[0]["nearest_training_image"] == names[1]
    assert "**1 flagged**" in (out / "audit.md").read_text(encoding="utf-8")
    assert Image.open(out / "audit_hist.png").size[0] > 800
    assert sorted(p.name for p in out.iterdir()) == ["audit.csv", "audit.md", "audit_hist.png"]  # no temporary left
    assert audit_cli.main(["--train", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_audit_cli_refuses_bad_input_before_writing(cohort, tmp_path, capsys, monkeypatch):
    from PIL import Image

    from models.generator import audit as audit_cli
    from models.generator.audit import load_folder_images

    train, _ = load_folder_images(cohort, aligned=False)
    generated = tmp_path / "generated"
    generated.mkdir()
    Image.fromarray(train[1]).save(generated / "a_copy.png")
    base = ["--train", str(cohort), "--calibrate", "10", "--different", "10", "--false-alarm", "0.1"]

    def refused(*extra: str) -> str:
        assert audit_cli.main([*base, *extra]) == 2
        return capsys.readouterr().err

    assert "outside --generated" in refused("--generated", str(generated), "--out", str(generated))
    assert "--seed must be 0 or more" in refused("--seed", "-1")
    assert "at least 10 are needed" in refused("--holdout", str(cohort))
    # The checker goes only into a generator folder, and with its calibration or not at all.
    index = tmp_path / "model"
    index.mkdir()
    assert "not a generator folder" in refused("--index", str(index))
    tiny_pipeline().save_pretrained(index)
    before = sorted(p.name for p in index.iterdir())

    def disk_full(*args):
        raise OSError("No space left on device")

    monkeypatch.setattr(audit_cli, "install", disk_full)
    assert "No space left" in refused("--index", str(index))
    assert sorted(p.name for p in index.iterdir()) == before  # no calibration, no temporary file
    assert json.loads((index / "model_index.json").read_text())["privacy_checker"] == [None, None]
    # A 16-bit grey sample is scaled to 8 bits, not read as white.
    grey = (np.asarray(Image.fromarray(train[2]).convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(grey).save(generated / "b_16bit.png")
    crops, names = load_folder_images(generated, aligned=True)
    assert names == ["a_copy.png", "b_16bit.png"] and abs(crops[1].mean() - grey.mean() / 257) < 2


def test_privacy_copies_benchmark_catches_altered_training_crops(cohort, tmp_path, capsys):
    from benchmarks import privacy_copies
    from models.generator.audit import load_folder_images

    train, _ = load_folder_images(cohort, aligned=False)
    tiny_pipeline().save_pretrained(tmp_path)
    install(tmp_path, build_checker(vectors(train), Thresholds()))
    argv = ["--model", str(tmp_path), "--train", str(cohort), "--n", "4", "--out", str(tmp_path / "bench")]
    assert privacy_copies.main(argv) == 0
    rows = {r["name"]: r for r in json.loads((tmp_path / "bench" / "privacy_copies.json").read_text())["alterations"]}
    assert len(rows) == 12
    for name in ("exact", "JPEG quality 75", "mirrored", "shifted 1 px", "shifted 2 px"):
        assert rows[name]["audit"] == 1.0 and rows[name]["runtime"] == 1.0, name
    assert "| mirrored | 100.0% |" in capsys.readouterr().out
    assert privacy_copies.run_benchmark(lambda: privacy_copies.main([*argv[:1], str(cohort), *argv[2:]])) == 2
    assert "no privacy index" in capsys.readouterr().err
    install(tmp_path, build_checker(vectors(train[:5]), Thresholds()))  # a checker of another training set
    assert privacy_copies.run_benchmark(lambda: privacy_copies.main(argv)) == 2
    assert "was not built from" in capsys.readouterr().err
    (tmp_path / "privacy_checker" / "diffusion_pytorch_model.safetensors").write_bytes(b"not an index")
    with pytest.raises(ValueError, match="not a readable privacy checker"):
        load_checker(tmp_path)


def test_redraw_benchmark_judges_renders_redrawn_from_each_noise_level(trained, cohort, tmp_path, capsys):
    from PIL import Image

    from benchmarks import generator_redraw

    out, _ = trained
    argv = ["--model", str(out), "--data", str(cohort), "--per-class", "2", "--start", "99,899"]
    argv += ["--out", str(tmp_path)]
    assert generator_redraw.main(argv) == 0
    result = json.loads((tmp_path / "redraw.json").read_text())
    assert result["n"] == 6 and result["classes"] == 3
    assert [s["t"] for s in result["starts"]] == [99, 899]
    assert result["starts"][0]["sigma"] < 1 < result["starts"][1]["sigma"]
    assert all(0 <= s["top1"] <= 1 for s in result["starts"]) and 0 <= result["renders_top1"] <= 1
    assert "re-drawn from t = 899" in capsys.readouterr().out
    assert Image.open(tmp_path / "redraw_t99.png").size == (2 * 96, 3 * 96)
    with pytest.raises(SystemExit):
        generator_redraw.main([*argv[:-2], "--start", "0", "--out", str(tmp_path)])


def test_sample_cli_writes_marked_pngs_with_provenance(trained, tmp_path, capsys):
    from models.generator import sample

    out, _ = trained
    dest = tmp_path / "gen"
    assert (
        sample.main(
            ["--model", str(out), "--syndrome", "down", "--n", "2", "--out", str(dest), "--steps", "2", "--size", "64"]
        )
        == 0
    )
    meta = read_png_metadata(dest / "down-00001.png")
    index = json.loads((out / "model_index.json").read_text())
    assert meta["synthetic"] == "true" and meta["weights_sha256"] == index["weights_sha256"]
    assert meta["hpo_release"] == "2025-01-16" and meta["seed"] == "1"
    assert json.loads(meta["condition"])["syndrome"] == "down"
    assert "not applied" in meta["memorisation_filter"]
    assert meta["sampler"] == "dpm++, 2 steps, guidance 4.0 at noise levels sigma > 0.5"  # GUIDANCE_INTERVAL
    assert "no privacy index" in capsys.readouterr().err
    assert (dest / "attributes.csv").read_text().count("\n") == 3
    one_by_one = tmp_path / "gen1"
    argv = ["--model", str(out), "--syndrome", "down", "--n", "2", "--steps", "2", "--size", "64", "--batch", "1"]
    assert sample.main([*argv, "--out", str(one_by_one)]) == 0
    assert (one_by_one / "attributes.csv").read_text() == (dest / "attributes.csv").read_text()
    assert sample.main([*argv, "--out", str(tmp_path / "never"), "--guidance", "-3"]) == 2
    assert not (tmp_path / "never").exists()
    assert sample.main(["--model", str(out), "--syndrome", "noonan", "--out", str(dest)]) == 2
    assert "unknown syndrome" in capsys.readouterr().err


def test_training_on_hpo_terms_conditions_samples_on_features_the_phenotype_engine_draws(
    cohort, trained, tmp_path, capsys
):
    from diffusers.utils import logging as diffusers_logging

    from models.classifier.data import load_rows
    from models.generator import sample, train
    from models.generator.sample import generate, load_generator

    diffusers_logging.enable_progress_bar()
    out = tmp_path / "hpo_run"
    argv = ["--data", str(cohort), "--out", str(out), "--max-train-steps", "2", "--resolution", "32"]
    argv += ["--block-out-channels", "16,32", "--batch-size", "4", "--sample-every", "0", "--quiet"]
    assert train.cli([*argv, "--condition-on-hpo", "--hpo-dropout", "0.5"]) == 0
    vocab = sorted({t for r in load_rows(cohort) for t in r["hpo_terms"]})
    assert vocab and GeneratorConfig.load(out).hpo_vocabulary == vocab
    assert json.loads((out / "model_index.json").read_text())["hpo_vocabulary"] == vocab
    assert f"then the {len(vocab)} HPO features of the training data" in (out / "README.md").read_text()

    pipe = load_generator(out)
    samples = generate(pipe, ["down", "unaffected"], [4.0, 4.0], ["male"] * 2, [3, 3], [5, 5], steps=2)
    down, unaffected = (s.condition["hpo_terms"] for s in samples)
    assert down and set(down) <= set(vocab) and unaffected == ()
    again = generate(pipe, "down", 4.0, "male", 3, [5], steps=2)[0]
    assert again.condition["hpo_terms"] == down
    # drawn alone or in a batch of 2: PyTorch promises no bit equality across batch sizes, so allow
    # one grey level (seen in 1 of 3,072 values), but no other face
    assert np.abs(again.image.astype(int) - samples[0].image.astype(int)).max() <= 1
    given = generate(pipe, "down", 4.0, "male", 3, [5], steps=2, hpo_terms=[[vocab[0]]])[0]
    assert given.condition["hpo_terms"] == (vocab[0],)

    dest = tmp_path / "gen"
    assert (
        sample.main(["--model", str(out), "--syndrome", "down", "--n", "2", "--out", str(dest), "--steps", "1"]) == 0
    )
    header, first = (dest / "attributes.csv").read_text().splitlines()[:2]
    assert "hpo_terms" in header.split(",") and "HP:" in first
    assert json.loads(read_png_metadata(dest / "down-00000.png")["condition"])["hpo_terms"]

    plain, _ = trained
    warm = tmp_path / "warm"
    argv[argv.index(str(out))] = str(warm)
    capsys.readouterr()
    assert train.cli([*argv, "--init-from", str(plain), "--condition-on-hpo"]) == 0
    assert GeneratorConfig.load(warm).hpo_vocabulary == vocab
    # --quiet hides diffusers' loading bar for this run only: its switch is process-wide
    assert "Loading pipeline components" not in capsys.readouterr().err
    assert diffusers_logging.is_progress_bar_enabled()
    assert train.cli([*argv, "--condition-on-hpo", "--hpo-dropout", "1"]) == 2
    assert "--hpo-dropout must be in [0, 1)" in capsys.readouterr().err


def test_hpo_slots_added_to_a_trained_generator_start_at_zero_weight():
    from models.generator.config import with_hpo_slots

    pipe = tiny_pipeline(seed=3)
    vocab = ["HP:0000316", "HP:0000431"]
    config = GeneratorConfig(**TINY, hpo_vocabulary=vocab)
    wider = PhenoFacePipeline(
        unet=with_hpo_slots(pipe.unet, config), scheduler=build_scheduler(config), class_names=CLASSES,
        hpo_vocabulary=vocab,
    )  # fmt: skip
    noise = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    before = pipe(syndrome="down", latents=noise.clone(), num_inference_steps=3, output_type="np").images
    after = wider(syndrome="down", hpo_terms=vocab, latents=noise.clone(), num_inference_steps=3, output_type="np")
    assert np.allclose(before, after.images, atol=1e-6)
    with pytest.raises(ValueError, match="no hpo_vocabulary"):
        with_hpo_slots(pipe.unet, GeneratorConfig(**TINY))


def test_quality_benchmark_judges_samples_and_keeps_them_marked_in_their_metadata(trained, tmp_path, capsys):
    from benchmarks import generator_quality

    out, _ = trained
    argv = ["--model", str(out), "--per-class", "2", "--steps", "2", "--out", str(tmp_path)]
    assert generator_quality.main(argv) == 0
    result = json.loads((tmp_path / "generator_quality.json").read_text())
    assert len(result["classes"]) == 3 and 0 <= result["mean_generated_top1"] <= 1
    # the reference renders come from the engine of the training cohort, the app's 3D child unless told
    assert result["renders_engine"] == "phenotype_3d" and 0 <= result["mean_renders_top1"] <= 1
    assert "mean over classes: generated" in capsys.readouterr().out
    pngs = sorted((tmp_path / "samples").glob("*.png"))
    assert len(pngs) == 6
    meta = read_png_metadata(pngs[0])
    assert meta["synthetic"] == "true" and json.loads(meta["condition"])["syndrome"] in pngs[0].name


def test_the_shipped_folders_code_is_the_source_and_its_components_load():
    # a researcher loading assets/generator with custom_pipeline= runs those copies: they must be this code
    from pathlib import Path

    from models.generator.sample import load_pipeline

    root = Path(__file__).resolve().parents[1]
    folder = root / "assets" / "generator"
    source = root / "models" / "generator"
    assert (folder / "pipeline.py").read_bytes() == (source / "pipeline.py").read_bytes()
    for component in ("shape_model", "privacy_checker"):
        assert (folder / component / "components.py").read_bytes() == (source / "components.py").read_bytes()
    index = json.loads((folder / "model_index.json").read_text())
    assert index["scheduler"] == ["diffusers", "DPMSolverMultistepScheduler"]
    assert index["privacy_checker"] == ["components", "PhenoFacePrivacyChecker"]
    assert not (folder / "privacy_index.safetensors").exists() and len(json.dumps(index)) < 10_000
    pipe = load_pipeline(folder)
    assert pipe.privacy_checker is not None and pipe.shape_model is not None
    assert pipe.scheduler.config.algorithm_type == "dpmsolver++"
