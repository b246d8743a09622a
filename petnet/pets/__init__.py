"""Chapter 6: pet recognition with a pretrained EfficientNet-Lite backbone.

The talk's last step: keep a CNN pretrained on ImageNet, compute its 1280-number
"bottleneck" features of every photo once, and retrain only the last (softmax) layer on
your own pet classes. Modules: ``images`` (robust loading), ``preprocess`` (crop/resize/scale),
``efficientnet`` (the network), ``backbone`` (fast feature extraction), ``onnx_export``,
then retraining and prediction. Nothing heavy is imported here.
"""
