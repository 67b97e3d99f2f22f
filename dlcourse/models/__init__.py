"""The models of the chapters, in numpy, each a Module with its backward pass written out.

- :mod:`~dlcourse.models.neuron` — the single neuron (01)
- :mod:`~dlcourse.models.cnn` — convolution (naive loops and im2col), pooling, batch norm (07);
  :mod:`~dlcourse.models.conv_gemm` — the tuned convolution beside it
- :mod:`~dlcourse.models.rnn` — the RNN and LSTM cells and layers, forward and backward
  through time (08); :mod:`~dlcourse.models.lstm_fused` — the LSTM's tuned time loops
- :mod:`~dlcourse.models.conv1d` — 1-D convolution and global average pooling over time,
  for raw waveforms (06)
- :mod:`~dlcourse.models.sequence_models` — a recurrent layer with a linear readout (08)
- :mod:`~dlcourse.models.language_model` — temperature sampling, perplexity, n-gram
  baselines, generation and training on windows of text, for any next-symbol model (08, 10)
- :mod:`~dlcourse.models.attention` — scaled dot-product and multi-head attention,
  positional encodings (10)
- :mod:`~dlcourse.models.transformer` — the Transformer block (LayerNorm, feed-forward,
  residuals) and a causal decoder-only language model (10)

The torch twins of these models are in :mod:`dlcourse.torch`.
"""
