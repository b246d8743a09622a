"""petnet: from gradient descent to pet recognition.

Chapters of the talk, one sub-package each:

* ``petnet.gd``      -- chapter 2, gradient descent (house prices)
* ``petnet.filters`` -- chapter 3.1, convolution as image filtering
* ``petnet.nn``      -- chapters 3-4, a from-scratch NumPy CNN engine with backpropagation
* ``petnet.vgg``     -- chapter 5, VGG configurations A-E
* ``petnet.pets``    -- chapter 6, retrain a pretrained CNN on pet photos and recognise them
"""

__version__ = "0.1.0"
