"""Reading your handwriting: the guarded image loader, finding the ink, a photo to a 28x28
digit, predict, and serve with its page."""

READER_WEIGHTS = "weights/reader.pth"  # predict and serve: the best CNN fine-tuned with ink styles
MAX_UPLOAD = 10 * 2**20  # bytes serve reads of one upload; larger ones are refused unread
