import numpy as np
import pytest
import torch

from melo.audio import _hz_to_mel, _mel_to_hz, load_audio, mel_filterbank, mel_spectrogram, save_wav, spectrogram


def test_slaney_mel_scale():
    assert _hz_to_mel(np.array(1000.0)) == pytest.approx(15.0)
    assert _hz_to_mel(np.array(500.0)) == pytest.approx(7.5)
    f = np.array([0.0, 300.0, 1000.0, 4000.0, 22050.0])
    np.testing.assert_allclose(_mel_to_hz(_hz_to_mel(f)), f, rtol=1e-9, atol=1e-9)


def test_filterbank_triangles_have_unit_area():
    sr, n_fft, n_mels = 44100, 2048, 128
    fb = mel_filterbank(sr, n_fft, n_mels, 0.0, sr / 2)
    assert fb.shape == (n_mels, n_fft // 2 + 1)
    assert (fb >= 0).all()
    df = sr / n_fft
    areas = fb.sum(axis=1) * df
    # Slaney normalisation: each triangle has area 1 in Hz (wide, well-sampled filters).
    np.testing.assert_allclose(areas[40:], 1.0, rtol=0.05)
    peaks = fb.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all()


def test_spectrogram_frames_and_mel_of_a_sine():
    sr, hop = 44100, 512
    t = torch.arange(hop * 40) / sr
    wav = torch.sin(2 * torch.pi * 1000 * t).unsqueeze(0)
    spec = spectrogram(wav, 2048, hop, 2048)
    assert spec.shape == (1, 1025, 40)
    peak_bin = spec[0, :, 20].argmax().item()
    assert abs(peak_bin * sr / 2048 - 1000) < sr / 2048
    mel = mel_spectrogram(wav, sr, 2048, hop, 2048, 128, 0.0, sr / 2)
    assert mel.shape == (1, 128, 40)
    assert torch.isfinite(mel).all() and mel.min() >= np.log(1e-5) - 1e-6


def test_load_resamples_and_mixes_to_mono(tmp_path):
    sr = 22050
    t = np.arange(sr) / sr
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    import soundfile as sf

    sf.write(tmp_path / "s.wav", stereo, sr)
    clip = load_audio(tmp_path / "s.wav", 44100)
    assert clip.original_sample_rate == sr and clip.original_channels == 2 and clip.resampled
    assert clip.samples.ndim == 1 and abs(clip.samples.shape[0] - 44100) <= 2
    assert clip.seconds == pytest.approx(1.0, abs=1e-3)
    save_wav(tmp_path / "o.wav", clip.samples, 44100)
    again = load_audio(tmp_path / "o.wav", 44100)
    assert not again.resampled and np.abs(again.samples - clip.samples).max() < 1e-3
